"""A session's browser as a fresh context in a browser that outlives the session: one of
the warm pool's, or a remote one. It has no process tree of its own to measure, so its
resources are None (unavailable), never zero; and no user-data dir: the context starts
as empty as a new profile (docs/browsers.md)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.failures import first_line
from qrbench.config.models import Browser
from qrbench.errors import BrowserLaunchFailed

CLOSE_TIMEOUT_S = 5.0
# Page.crash kills the renderer, which then never answers the call itself.
_CRASH_TIMEOUT_S = 2.0


def _left_the_blank_page(url: str) -> bool:
    return url != "about:blank"


async def new_session_context(browser: PlaywrightBrowser, config: Browser) -> BrowserContext:
    """A fresh context for one session, set up as a launched one would be."""
    try:
        # The replica's certificate is made per run; a browser launched elsewhere was not
        # told to trust its key (--ignore-certificate-errors-spki-list), so its context is.
        context = await browser.new_context(user_agent=config.user_agent, ignore_https_errors=True)
    except PlaywrightError as exc:
        raise BrowserLaunchFailed(first_line(exc)) from exc
    # As for a launched browser: CDP calls give up after the protocol timeout.
    context.set_default_timeout(config.protocol_timeout_ms)
    return context


class ContextBrowser:
    """One session's context; `disconnect` (if any) runs after the context is closed."""

    def __init__(
        self,
        context: BrowserContext,
        disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._context = context
        self._disconnect = disconnect

    @property
    def context(self) -> BrowserContext:
        return self._context

    async def crash(self) -> None:
        # The browser is shared (or not ours to kill): the scenario's crash kills this
        # session's renderers, as a renderer crash would. Only once the load has begun:
        # a navigation after the crash would start in a fresh renderer.
        for page in self._context.pages:
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await page.wait_for_url(_left_the_blank_page, wait_until="commit")
                session = await self._context.new_cdp_session(page)
                await asyncio.wait_for(session.send("Page.crash"), _CRASH_TIMEOUT_S)

    async def close(self) -> None:
        # A crashed page or a lost connection may never answer close; the pool or the
        # remote side disposes of the context when the browser or connection goes.
        try:
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await asyncio.wait_for(self._context.close(), CLOSE_TIMEOUT_S)
        finally:
            if self._disconnect is not None:
                with contextlib.suppress(PlaywrightError, TimeoutError):
                    await asyncio.wait_for(self._disconnect(), CLOSE_TIMEOUT_S)
        return None
