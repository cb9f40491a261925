"""The scenario's network and CPU for the page, emulated inside Chromium over CDP.

Chromium 156 answers `Network.emulateNetworkConditionsByRule`, which tells origins apart by
URL pattern (each request's `appliedNetworkConditionsId` names the rule that shaped it), so
no origin needs server-side pacing for the browser's sake:
- a rule for `static.whatsapp.net` gives the replica's bundle origin the `static` link;
- after it, a rule with an empty pattern matches every other request, WebSocket included,
  and gives it the `whatsapp` link: the replica's page, socket and chat API, or a custom
  `target.url` and everything it loads. The first matching rule wins.

Chromium holds each request back by `latency` from sending it to receiving the response
headers: one round trip per request; opening a connection adds none of its own. The
throughputs cap bytes per second. `version_host` and `webhook` are not the browser's
links: the harness talks to those peers, and they pace themselves (qrbench.world.pacing).

`Emulation.setCPUThrottlingRate` runs the page's renderer main thread `cpu.slowdown` times
slower. Both settings belong to the page's DevTools session, which stays attached for the
page's life, so they hold across navigations and the new renderer a new site gets.
"""

from typing import TypedDict

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.failures import translate
from qrbench.config.models import OriginNetwork, ScenarioCpu, ScenarioNetwork
from qrbench.world.pacing import UNSHAPED, bytes_per_s
from qrbench.world.replica.urls import STATIC_HOST

STATIC_URL_PATTERN = f"*://{STATIC_HOST}/*"
EVERY_URL_PATTERN = ""  # CDP's spelling of "every request no earlier rule matched"
_UNLIMITED = -1  # CDP's throughput for "no cap"


class NetworkConditions(TypedDict):
    """One CDP `Network.NetworkConditions` rule, as sent to Chromium."""

    urlPattern: str
    latency: int  # ms per request round trip
    downloadThroughput: float  # bytes/s
    uploadThroughput: float  # bytes/s


class AppliedEmulation(TypedDict):
    """What `apply` told Chromium, for the session's results."""

    network_rules: list[NetworkConditions]  # empty: Chromium's own network, untouched
    cpu_throttling_rate: float


def network_rules(network: ScenarioNetwork) -> list[NetworkConditions]:
    """The page's rules for `network`, most specific first; none when nothing is shaped."""
    if network.whatsapp == UNSHAPED and network.static == UNSHAPED:
        return []
    return [
        _conditions(STATIC_URL_PATTERN, network.static),
        _conditions(EVERY_URL_PATTERN, network.whatsapp),
    ]


def _conditions(url_pattern: str, link: OriginNetwork) -> NetworkConditions:
    return NetworkConditions(
        urlPattern=url_pattern,
        latency=link.latency_ms,
        downloadThroughput=_throughput(link.download_kbps),
        uploadThroughput=_throughput(link.upload_kbps),
    )


def _throughput(kbps: float | None) -> float:
    return _UNLIMITED if kbps is None else bytes_per_s(kbps)


async def apply(
    context: BrowserContext, page: Page, network: ScenarioNetwork, cpu: ScenarioCpu
) -> AppliedEmulation:
    """Emulate the scenario's network and CPU for `page` (call before navigating it).

    An unshaped scenario (`lan`) opens no DevTools session at all, so it measures the
    browser exactly as it runs without qrbench. Raises a SessionFailure when Chromium
    refuses a call.
    """
    applied = AppliedEmulation(
        network_rules=network_rules(network), cpu_throttling_rate=cpu.slowdown
    )
    if not applied["network_rules"] and cpu.slowdown == 1:
        return applied
    try:
        session = await context.new_cdp_session(page)
        if applied["network_rules"]:
            await session.send(
                "Network.emulateNetworkConditionsByRule",
                {"offline": False, "matchedNetworkConditions": applied["network_rules"]},
            )
        if cpu.slowdown != 1:
            await session.send("Emulation.setCPUThrottlingRate", {"rate": cpu.slowdown})
    except PlaywrightError as exc:
        raise translate(exc) from exc
    return applied
