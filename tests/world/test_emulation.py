"""Network and CPU emulation in real Chromium: per-origin rules and CPU throttling.

Timing checks are lower bounds only: the machine is shared, so anything may be slower.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from qrbench.browsers.local import HARNESS_ARGS
from qrbench.config.models import OriginNetwork, ScenarioCpu, ScenarioNetwork
from qrbench.errors import SessionFailure
from qrbench.world import emulation
from qrbench.world.replica.server import Replica, ReplicaConfig
from qrbench.world.replica.urls import STATIC_HOST, WHATSAPP_HOST, ReplicaUrls
from tests.helpers import PageServer

# What qrbench adds to every launch, and what root needs.
CHROMIUM_ARGS = [*HARNESS_ARGS, "--no-sandbox"]
SMALL = ReplicaConfig(index_kb=100, bundle_kb=256)
UNSHAPED_NETWORK = ScenarioNetwork()
FULL_SPEED = ScenarioCpu()
ROUNDS = 3
BUSY_LOOP_JS = """() => {
  const started = performance.now();
  let sum = 0;
  for (let i = 0; i < 2e7; i++) {
    sum = (sum + i) % 7;
  }
  return performance.now() - started;
}"""
# Opaque cross-origin fetch: resolves once the response headers are in, CORS or not.
TIMED_FETCH_JS = """async (url) => {
  const started = performance.now();
  await fetch(url, {mode: "no-cors", cache: "no-store"});
  return performance.now() - started;
}"""


@asynccontextmanager
async def chromium(urls: ReplicaUrls | None = None) -> AsyncIterator[Browser]:
    resolver = urls.chromium_args() if urls else []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *resolver]
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def emulated_page(
    browser: Browser, network: ScenarioNetwork, cpu: ScenarioCpu = FULL_SPEED
) -> AsyncIterator[tuple[BrowserContext, Page]]:
    """A fresh context and page with `apply` done, as browser_launch leaves them."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await emulation.apply(context, page, network, cpu)
        yield context, page
    finally:
        await context.close()


async def page_load_ms(browser: Browser, url: str, network: ScenarioNetwork) -> float:
    async with emulated_page(browser, network) as (_, page):
        started = time.monotonic()
        await page.goto(url, wait_until="load")
        return (time.monotonic() - started) * 1000


def run_with_replica(measure: Callable[[Browser, ReplicaUrls], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        with Replica(SMALL) as urls:
            async with chromium(urls) as browser:
                return await measure(browser, urls)

    return asyncio.run(main())


# --- rules, no browser ------------------------------------------------------------------


def test_unshaped_scenario_has_no_rules() -> None:
    assert emulation.network_rules(UNSHAPED_NETWORK) == []


def test_version_host_and_webhook_links_are_not_the_browsers() -> None:
    paced_elsewhere = OriginNetwork(latency_ms=150, download_kbps=800)
    network = ScenarioNetwork(version_host=paced_elsewhere, webhook=paced_elsewhere)

    assert emulation.network_rules(network) == []


def test_static_rule_comes_before_the_rule_for_everything_else() -> None:
    network = ScenarioNetwork(
        whatsapp=OriginNetwork(latency_ms=60, download_kbps=20000, upload_kbps=5000),
        static=OriginNetwork(latency_ms=30),
    )

    assert emulation.network_rules(network) == [
        {
            "urlPattern": f"*://{STATIC_HOST}/*",
            "latency": 30,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        },
        {
            "urlPattern": "",
            "latency": 60,
            "downloadThroughput": 2_500_000,  # 20 Mbit/s in bytes/s
            "uploadThroughput": 625_000,
        },
    ]


# --- in Chromium ------------------------------------------------------------------------


@pytest.mark.browser
def test_latency_adds_its_round_trips_to_the_replicas_page_load(
    no_leftover_chromium: None,
) -> None:
    link = OriginNetwork(latency_ms=200)
    slow = ScenarioNetwork(whatsapp=link, static=link)

    async def measure(browser: Browser, urls: ReplicaUrls) -> tuple[list[float], list[float]]:
        plain, slowed = [], []
        for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits both
            plain.append(await page_load_ms(browser, urls.whatsapp, UNSHAPED_NETWORK))
            slowed.append(await page_load_ms(browser, urls.whatsapp, slow))
        return plain, slowed

    plain, slowed = run_with_replica(measure)

    # The index, then the bundles it names: two round trips one after the other.
    assert min(slowed) >= 2 * 200
    assert min(slowed) - min(plain) >= 200


@pytest.mark.browser
def test_static_origin_gets_its_own_rule(no_leftover_chromium: None) -> None:
    network = ScenarioNetwork(
        whatsapp=OriginNetwork(latency_ms=100), static=OriginNetwork(latency_ms=600)
    )

    async def measure(browser: Browser, urls: ReplicaUrls) -> tuple[dict[str, set[str]], float]:
        async with emulated_page(browser, network) as (context, page):
            # A second DevTools session only watches which rule shaped each request.
            observer = await context.new_cdp_session(page)
            await observer.send("Network.enable")
            hosts: dict[str, str] = {}
            rules: dict[str, str | None] = {}
            observer.on(
                "Network.requestWillBeSent",
                lambda event: hosts.update({event["requestId"]: event["request"]["url"]}),
            )
            observer.on(
                "Network.requestWillBeSentExtraInfo",
                lambda event: rules.update(
                    {event["requestId"]: event.get("appliedNetworkConditionsId")}
                ),
            )
            await page.goto(urls.whatsapp, wait_until="load")
            static_fetch_ms = await page.evaluate(
                TIMED_FETCH_JS, f"https://{STATIC_HOST}/bundles/app.js"
            )
        rules_by_host: dict[str, set[str]] = {}
        for request_id, url in hosts.items():
            host = url.split("/")[2]
            rules_by_host.setdefault(host, set()).add(str(rules.get(request_id)))
        return rules_by_host, static_fetch_ms

    rules_by_host, static_fetch_ms = run_with_replica(measure)

    [whatsapp_rule] = rules_by_host[WHATSAPP_HOST]
    [static_rule] = rules_by_host[STATIC_HOST]
    assert "None" not in (whatsapp_rule, static_rule)
    assert whatsapp_rule != static_rule
    assert static_fetch_ms >= 600


@pytest.mark.browser
def test_a_custom_target_gets_the_whatsapp_link(no_leftover_chromium: None) -> None:
    network = ScenarioNetwork(whatsapp=OriginNetwork(latency_ms=300))

    async def measure(url: str) -> float:
        async with chromium() as browser:
            return await page_load_ms(browser, url, network)

    with PageServer({"/": "<!doctype html><title>not WhatsApp</title>"}) as server:
        load_ms = asyncio.run(measure(server.url("/")))

    assert load_ms >= 300


@pytest.mark.browser
def test_cpu_slowdown_holds_across_the_navigation_to_another_site(
    no_leftover_chromium: None,
) -> None:
    async def busy_ms(browser: Browser, url: str, cpu: ScenarioCpu) -> float:
        async with emulated_page(browser, UNSHAPED_NETWORK, cpu) as (_, page):
            await page.goto(url, wait_until="load")  # a new site: a new renderer
            return await page.evaluate(BUSY_LOOP_JS)

    async def measure(browser: Browser, urls: ReplicaUrls) -> tuple[list[float], list[float]]:
        full, slowed = [], []
        for _ in range(ROUNDS):
            full.append(await busy_ms(browser, urls.whatsapp, FULL_SPEED))
            slowed.append(await busy_ms(browser, urls.whatsapp, ScenarioCpu(slowdown=4)))
        return full, slowed

    full, slowed = run_with_replica(measure)

    assert min(slowed) >= 2 * min(full)


@pytest.mark.browser
def test_a_refused_call_is_a_session_failure(no_leftover_chromium: None) -> None:
    async def apply_to_closed_page() -> None:
        async with chromium() as browser:
            context = await browser.new_context()
            page = await context.new_page()
            await page.close()
            await emulation.apply(context, page, UNSHAPED_NETWORK, ScenarioCpu(slowdown=2))

    with pytest.raises(SessionFailure):
        asyncio.run(apply_to_closed_page())
