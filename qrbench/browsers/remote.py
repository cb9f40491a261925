"""Remote providers: browsers on other machines, reached by URL.

`playwright` connects to a Playwright browser server (`chromium.connect`), `cdp` to a
Chromium's DevTools endpoint (`chromium.connect_over_cdp`: Browserless, Selenium Grid, a
Chromium started with --remote-debugging-port). Each session connects to the next endpoint
round-robin and gets a fresh context, as a whatsapp-web.js client with browserWSEndpoint
connects on its own; closing the session closes its context and connection. When the run
ends, the driver drops any connection still open and the remote side disposes of the
contexts it made.

The remote browser was launched by someone else: the profile's executable_path, headless
and args, and the session's user-data dir, do not reach it. Its processes are not on this
machine, so resources are None (docs/browsers.md).
"""

import contextlib
import socket
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.contexts import ContextBrowser, new_session_context
from qrbench.browsers.failures import first_line
from qrbench.browsers.local import DriverUser, PlaywrightDriver
from qrbench.config.models import Browser, BrowserProviderKind
from qrbench.errors import BrowserLaunchFailed, EnvironmentProblem

_REACH_TIMEOUT_S = 3.0
_DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


def check_reachable(endpoint: str, timeout_s: float = _REACH_TIMEOUT_S) -> None:
    """Raise EnvironmentProblem naming `endpoint` when nothing accepts a connection there."""
    parts = urlsplit(endpoint)
    address = (parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))
    try:
        with socket.create_connection(address, timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise EnvironmentProblem(f"browser endpoint {endpoint} is unreachable: {reason}") from exc


class RemoteProvider(DriverUser):
    def __init__(
        self,
        kind: BrowserProviderKind,
        endpoints: list[str],
        timeout_ms: int,
        driver: PlaywrightDriver | None = None,
    ) -> None:
        if kind is BrowserProviderKind.LOCAL or not endpoints:
            raise ValueError("a remote provider needs a remote kind and endpoints")
        super().__init__(driver)
        self.kind = kind
        self.endpoints = list(endpoints)
        self._timeout_ms = timeout_ms
        self._next = 0

    def check(self, config: Browser) -> None:
        for endpoint in self.endpoints:
            check_reachable(endpoint)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        try:
            # Something listens at each endpoint (check); is it a browser that answers?
            for endpoint in self.endpoints:
                try:
                    browser = await self._connect(endpoint, self._timeout_ms)
                except BrowserLaunchFailed as exc:
                    raise EnvironmentProblem(
                        f"browser endpoint {endpoint} does not answer as a {self.kind} "
                        f"browser: {exc}"
                    ) from exc
                await browser.close()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        return self

    def next_endpoint(self) -> str:
        """The endpoint for the next session: the endpoints round-robin."""
        endpoint = self.endpoints[self._next % len(self.endpoints)]
        self._next += 1
        return endpoint

    async def launch(
        self, config: Browser, user_data_dir: Path, extra_args: list[str]
    ) -> ContextBrowser:
        browser = await self._connect(self.next_endpoint(), config.timeout_ms)
        try:
            context = await new_session_context(browser, config)
        except BaseException:
            with contextlib.suppress(PlaywrightError):
                await browser.close()
            raise
        return ContextBrowser(context, disconnect=browser.close)

    async def _connect(self, endpoint: str, timeout_ms: int) -> PlaywrightBrowser:
        chromium = self.playwright.chromium
        try:
            if self.kind is BrowserProviderKind.PLAYWRIGHT:
                return await chromium.connect(endpoint, timeout=timeout_ms)
            return await chromium.connect_over_cdp(endpoint, timeout=timeout_ms)
        except PlaywrightError as exc:
            raise BrowserLaunchFailed(f"{endpoint}: {first_line(exc)}") from exc

    def reap(self, user_data_dirs: list[Path]) -> None:
        # Nothing of a remote session runs on this machine.
        pass
