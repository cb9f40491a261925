"""qr_wait and the ready state: the page reports its own events, stamped on the session clock.

As whatsapp-web.js does with exposeFunction, a MutationObserver in the page calls a
binding the moment `div[data-ref]` holds a canvas (and again for every new ref), or the
logged-in chat list (`#pane-side`) appears. Polling with wait_for_selector would see
them up to half a second late.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar

from playwright.async_api import BrowserContext, Page

from qrbench.errors import BrowserCrashed, ProtocolTimeout, ReadyTimeout, SessionFailure

QR_BINDING = "__qrbenchQrShown"
READY_BINDING = "__qrbenchReady"

WATCH_SCRIPT = f"""
(() => {{
  let lastRef = null;
  let ready = false;
  const report = () => {{
    const holder = document.querySelector('div[data-ref]');
    if (holder && holder.querySelector('canvas')) {{
      const ref = holder.getAttribute('data-ref');
      if (ref && ref !== lastRef) {{ lastRef = ref; window.{QR_BINDING}(ref); }}
    }}
    if (!ready && document.querySelector('#pane-side')) {{
      ready = true;
      window.{READY_BINDING}();
    }}
  }};
  new MutationObserver(report).observe(document, {{
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-ref'],
  }});
}})();
"""

Stamp = tuple[float, str]
T = TypeVar("T")


class PageWatcher:
    """Every ref the page shows and the moment it turns ready, in session milliseconds."""

    def __init__(self, now_ms: Callable[[], float]) -> None:
        self._now_ms = now_ms
        self.refs: list[Stamp] = []
        loop = asyncio.get_running_loop()
        self._first_qr: asyncio.Future[Stamp] = loop.create_future()
        self._ready: asyncio.Future[float] = loop.create_future()
        # Called for each ref after the first, once the session is ready to handle them.
        self.on_new_ref: Callable[[str], None] | None = None

    async def install(self, context: BrowserContext, page: Page) -> None:
        await context.expose_binding(QR_BINDING, self._on_ref)
        await context.expose_binding(READY_BINDING, self._on_ready)
        await context.add_init_script(WATCH_SCRIPT)
        page.on("crash", lambda _: self._fail(BrowserCrashed("the page crashed")))
        context.on("close", lambda _: self._fail(BrowserCrashed("the browser closed")))

    def _on_ref(self, _source: object, data_ref: str) -> None:
        stamp = (self._now_ms(), data_ref)
        self.refs.append(stamp)
        if not self._first_qr.done():
            self._first_qr.set_result(stamp)
        elif self.on_new_ref is not None:
            self.on_new_ref(data_ref)

    def _on_ready(self, _source: object) -> None:
        if not self._ready.done():
            self._ready.set_result(self._now_ms())

    def _fail(self, error: SessionFailure) -> None:
        for waiting in (self._first_qr, self._ready):
            _fail_unless_done(waiting, error)

    def give_up(self, error: SessionFailure) -> None:
        """Stop waiting for the ready state: the client gave up on this login."""
        _fail_unless_done(self._ready, error)

    async def first_qr(self, protocol_timeout_ms: int) -> Stamp:
        """(time the QR appeared, its data-ref); ProtocolTimeout after `protocol_timeout_ms`,
        as the client's evaluate that waits for it times out."""
        return await _wait(
            self._first_qr,
            protocol_timeout_ms,
            ProtocolTimeout(
                f"no QR in the page within {protocol_timeout_ms} ms "
                "(browser.protocol_timeout_ms bounds the wait for the socket to leave OPENING)"
            ),
        )

    async def ready(self, timeout_ms: int) -> float:
        """When the page showed the logged-in chat list; ReadyTimeout after `timeout_ms`."""
        return await _wait(
            self._ready, timeout_ms, ReadyTimeout(f"not ready within {timeout_ms} ms of the QR")
        )


def _fail_unless_done(waiting: asyncio.Future[T], error: SessionFailure) -> None:
    if not waiting.done():
        waiting.set_exception(error)
        # Nobody may ever await this one (no scan in the scenario); that is fine.
        waiting.exception()


async def _wait(event: asyncio.Future[T], timeout_ms: int, timeout_error: SessionFailure) -> T:
    try:
        return await asyncio.wait_for(asyncio.shield(event), timeout_ms / 1000)
    except TimeoutError:
        raise timeout_error from None
