"""The warm pool: `browser.pool: N` keeps N local Chromiums launched for the whole run and
gives each session a fresh context in one of them, round-robin, as a gateway that
pre-launches its browsers would. browser_launch then measures a new context, not a launch
(docs/browsers.md).

The pool is filled by the first session that asks (a warmup session by default): only the
replica's host mapping, known once the run's world is up, completes the launch arguments.
"""

import asyncio
import contextlib
from pathlib import Path
from types import TracebackType

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.contexts import CLOSE_TIMEOUT_S, ContextBrowser, new_session_context
from qrbench.browsers.failures import first_line
from qrbench.browsers.local import LocalProvider, PlaywrightDriver, launch_args
from qrbench.config.models import Browser
from qrbench.errors import BrowserLaunchFailed


class PooledProvider(LocalProvider):
    def __init__(self, size: int, driver: PlaywrightDriver | None = None) -> None:
        super().__init__(driver)
        self.size = size
        # Every Chromium this pool started, replacements included.
        self.launches = 0
        self._browsers: list[PlaywrightBrowser] = []
        self._extra_args: list[str] | None = None
        self._next = 0
        self._lock = asyncio.Lock()

    async def launch(
        self, config: Browser, user_data_dir: Path, extra_args: list[str]
    ) -> ContextBrowser:
        # user_data_dir is not used: a context in a running browser has no profile dir.
        browser = await self._take(config, extra_args)
        return ContextBrowser(await new_session_context(browser, config))

    async def _take(self, config: Browser, extra_args: list[str]) -> PlaywrightBrowser:
        async with self._lock:
            if self._extra_args is None:
                self._extra_args = extra_args
            elif extra_args != self._extra_args:
                raise ValueError("a pool serves one run's world: its sessions share extra_args")
            while len(self._browsers) < self.size:
                self._browsers.append(await self._launch_one(config))
            index = self._next % self.size
            self._next += 1
            if not self._browsers[index].is_connected():
                # A pooled browser that died is replaced, as a gateway's pool would.
                self._browsers[index] = await self._launch_one(config)
            return self._browsers[index]

    async def _launch_one(self, config: Browser) -> PlaywrightBrowser:
        assert self._extra_args is not None
        self.launches += 1
        try:
            return await self.playwright.chromium.launch(
                executable_path=config.executable_path,
                headless=config.headless,
                args=launch_args(config, self._extra_args),
                timeout=config.timeout_ms,
            )
        except PlaywrightError as exc:
            raise BrowserLaunchFailed(first_line(exc)) from exc

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            for browser in self._browsers:
                with contextlib.suppress(PlaywrightError, TimeoutError):
                    await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT_S)
        finally:
            self._browsers = []
            # The driver's exit ends whatever of the pool did not close.
            await super().__aexit__(exc_type, exc, tb)

    def reap(self, user_data_dirs: list[Path]) -> None:
        # A session leaves only its context, closed with it; the pool ends with the run.
        pass
