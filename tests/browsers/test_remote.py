"""Remote providers against real browsers on loopback: a Playwright browser server and
Chromiums serving the DevTools protocol (fixtures in conftest.py)."""

import asyncio
import json
import re
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from qrbench.browsers.remote import RemoteProvider, check_reachable
from qrbench.config.models import Browser, BrowserProviderKind
from qrbench.errors import EnvironmentProblem
from tests.browsers.servers import RemoteBrowser, cdp_chromium
from tests.helpers import PageServer, qrbench, write_yaml


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
    return port


def _run_through(
    tmp_path: Path, provider: str, *endpoints: str, extra: tuple[str, ...] = ()
) -> Any:
    """`qrbench run --profile optimized --runs 2 --warmup 0` through `endpoints`."""
    endpoint_args = [arg for endpoint in endpoints for arg in ("--browser-endpoint", endpoint)]
    results = tmp_path / "run.json"
    done = qrbench(
        "run",
        *("--profile", "optimized", "--runs", "2", "--warmup", "0"),
        *("--browser-provider", provider, *endpoint_args, "--output", str(results), *extra),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    return done, json.loads(results.read_text())


def _assert_resources_unavailable(document: dict[str, Any]) -> None:
    # Not on this machine: unavailable (null), never a zero that reads as "free".
    assert [session["resources"] for session in document["sessions"]] == [None, None]
    assert document["summary"]["peak_rss_mb"] is None
    assert document["summary"]["cpu_time_s"] is None


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_run_through_a_playwright_server_passes(
    tmp_path: Path, playwright_endpoint: RemoteBrowser
) -> None:
    done, document = _run_through(tmp_path, "playwright", playwright_endpoint.endpoint)
    assert [session["ok"] for session in document["sessions"]] == [True, True]
    assert document["profile"]["browser"]["provider"] == "playwright"
    assert document["profile"]["browser"]["endpoints"] == [playwright_endpoint.endpoint]
    _assert_resources_unavailable(document)
    assert "Chromium process tree" not in done.stdout
    # The server's browser outlives qrbench's sessions: it is not qrbench's to stop.
    assert playwright_endpoint.processes()


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_run_over_two_cdp_endpoints_passes(
    tmp_path: Path, cdp_browsers: list[RemoteBrowser]
) -> None:
    endpoints = [browser.endpoint for browser in cdp_browsers]
    _, document = _run_through(tmp_path, "cdp", *endpoints)
    assert [session["ok"] for session in document["sessions"]] == [True, True]
    _assert_resources_unavailable(document)


def _page_targets(browser: RemoteBrowser) -> list[str]:
    """The URLs of the pages open in a DevTools browser, from its own HTTP endpoint."""
    with urllib.request.urlopen(f"http://{browser.address}/json/list", timeout=5) as response:
        targets = json.load(response)
    return [target["url"] for target in targets if target["type"] == "page"]


@pytest.mark.browser
def test_sessions_take_the_endpoints_in_turn_each_in_a_fresh_context(
    cdp_browsers: list[RemoteBrowser],
) -> None:
    endpoints = [browser.endpoint for browser in cdp_browsers]
    config = Browser(provider=BrowserProviderKind.CDP, endpoints=endpoints)

    async def scenario() -> list[list[str]]:
        provider = RemoteProvider(config.provider, endpoints, config.timeout_ms)
        async with provider:
            sessions = [await provider.launch(config, Path("/unused"), []) for _ in range(3)]
            for number, session in enumerate(sessions, start=1):
                page = await session.context.new_page()
                await page.goto(f"about:blank#session-{number}")
                # A fresh context: nothing of another session's storage is in it.
                assert await session.context.cookies() == []
            seen = [_page_targets(browser) for browser in cdp_browsers]
            for session in sessions:
                assert await session.close() is None
        return seen

    first, second = asyncio.run(scenario())
    assert "about:blank#session-1" in first and "about:blank#session-3" in first
    assert "about:blank#session-2" in second
    assert not any("#session-2" in url for url in first)
    # Closing a session closes its context, not the remote browser.
    assert not any("#session-" in url for b in cdp_browsers for url in _page_targets(b))


def test_an_unreachable_endpoint_is_exit_3_naming_it_before_any_session(tmp_path: Path) -> None:
    endpoint = f"ws://127.0.0.1:{_closed_port()}/devtools/browser/x"
    done = qrbench(
        *("run", "--runs", "1", "--warmup", "0"),
        *("--browser-provider", "cdp", "--browser-endpoint", endpoint),
        cwd=tmp_path,
    )
    assert done.returncode == 3, done.stderr
    assert f"browser endpoint {endpoint} is unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


def test_check_names_the_endpoint_that_is_down() -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(EnvironmentProblem, match=re.escape(f"{endpoint} is unreachable")):
        check_reachable(endpoint)


@pytest.mark.browser
def test_an_endpoint_that_is_no_browser_is_exit_3_before_any_session(tmp_path: Path) -> None:
    with PageServer({}) as server:
        endpoint = server.url("")
        done = qrbench(
            *("run", "--runs", "1", "--warmup", "0"),
            *("--browser-provider", "cdp", "--browser-endpoint", endpoint),
            cwd=tmp_path,
        )
    assert done.returncode == 3, done.stderr
    assert f"browser endpoint {endpoint} does not answer as a cdp browser" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--browser-endpoint", "ws://127.0.0.1:1/"], "browser.endpoints: only for provider"),
        (["--browser-provider", "playwright"], "browser.endpoints: required when provider"),
        (
            ["--browser-provider", "playwright", "--browser-endpoint", "http://127.0.0.1:1/"],
            "is not a ws:// or wss:// URL",
        ),
        (["--browser-provider", "cdp", "--browser-endpoint", "127.0.0.1:9222"], "is not a ws://"),
        (
            ["--profile", "pooled", "--browser-provider", "cdp", "--browser-endpoint", "ws://a:1"],
            "browser.pool: only for provider local",
        ),
    ],
)
def test_bad_browser_options_are_exit_2_naming_the_key(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    done = qrbench("run", "--runs", "1", "--warmup", "0", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "command", [["compare", "a.json", "b.json"], ["gate", "--results", "r.json"]]
)
def test_browser_options_are_refused_where_nothing_runs(tmp_path: Path, command: list[str]) -> None:
    done = qrbench(*command, "--replica-bind", "127.0.0.2", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--replica-bind" in done.stderr


def test_a_replica_bound_beyond_loopback_is_announced(tmp_path: Path) -> None:
    # The run stops at the (unreachable) endpoint, before anything listens anywhere.
    done = qrbench(
        *("run", "--runs", "1", "--warmup", "0", "--replica-bind", "0.0.0.0"),
        *("--browser-provider", "cdp", "--browser-endpoint", f"http://127.0.0.1:{_closed_port()}"),
        cwd=tmp_path,
    )
    assert done.returncode == 3
    assert "warning: the replica will listen on 0.0.0.0 (--replica-bind)" in done.stderr


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_remote_browser_reaches_the_replica_where_it_was_bound(
    tmp_path: Path, cdp_browsers: list[RemoteBrowser]
) -> None:
    # 127.0.0.2 is loopback too, but not the default: the page must be sent there.
    done, document = _run_through(
        tmp_path, "cdp", cdp_browsers[0].endpoint, extra=("--replica-bind", "127.0.0.2")
    )
    assert "warning" not in done.stderr
    assert [session["ok"] for session in document["sessions"]] == [True, True]


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_cached_index_reaches_the_bundles_through_a_remote_browser(tmp_path: Path) -> None:
    # The cached index comes from the replica's version host; the remote browser cannot
    # map the replica's stable names, so that copy must name the bundles by address. The
    # page is answered from the cache by interception, and Chromium lets such a page load
    # loopback scripts only with web security off, as the shipped profiles have it.
    write_yaml(
        tmp_path / "profiles" / "cached.yaml",
        """
        extends: optimized
        web_version_cache:
          type: remote
          remote_path: "http://versions.wa-replica.test/html/{version}.html"
        """,
    )
    browser = cdp_chromium("--disable-web-security")
    try:
        done = qrbench(
            *("run", "--profile", "cached", "--runs", "1", "--warmup", "0"),
            *("--browser-provider", "cdp", "--browser-endpoint", browser.endpoint),
            cwd=tmp_path,
        )
    finally:
        browser.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "web-version cache: hit 1" in done.stdout


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_crash_strikes_the_sessions_page_not_the_remote_browser(
    tmp_path: Path, cdp_browsers: list[RemoteBrowser]
) -> None:
    write_yaml(
        tmp_path / "profiles" / "scenarios" / "crash.yaml",
        "extends: lan\nfaults:\n  browser_crash: 1.0\n",
    )
    results = tmp_path / "run.json"
    done = qrbench(
        *("run", "--scenario", "crash", "--runs", "2", "--warmup", "0", "--output", str(results)),
        *("--browser-provider", "cdp", "--browser-endpoint", cdp_browsers[0].endpoint),
        cwd=tmp_path,
    )
    assert done.returncode == 3  # every session failed, as the scenario says
    sessions = json.loads(results.read_text())["sessions"]
    assert [session["error"]["type"] for session in sessions] == ["BrowserCrashed"] * 2
    # The remote browser is someone else's: it lives on, with the page it started with.
    assert "about:blank" in _page_targets(cdp_browsers[0])
