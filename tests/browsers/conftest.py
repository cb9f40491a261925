"""Remote browsers on loopback, started once per test module and stopped after it."""

from collections.abc import Callable, Iterator

import pytest

from tests.browsers.servers import RemoteBrowser, cdp_chromium, playwright_server


def _running(start: Callable[[], RemoteBrowser], count: int) -> Iterator[list[RemoteBrowser]]:
    browsers: list[RemoteBrowser] = []
    try:
        for _ in range(count):
            browsers.append(start())
        yield browsers
    finally:
        for browser in browsers:
            browser.stop()
    assert not [proc for browser in browsers for proc in browser.processes()]


@pytest.fixture(scope="module")
def playwright_endpoint() -> Iterator[RemoteBrowser]:
    """A Playwright browser server (chromium.launchServer)."""
    for (server,) in _running(playwright_server, 1):
        yield server


@pytest.fixture(scope="module")
def cdp_browsers() -> Iterator[list[RemoteBrowser]]:
    """Two Chromiums serving the DevTools protocol on loopback."""
    yield from _running(cdp_chromium, 2)
