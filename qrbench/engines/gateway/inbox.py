"""The QR as the gateway's webhook delivers it: events handed over from qrbench's receiver
(its own thread) to the session waiting for them (the harness's event loop)."""

import asyncio
import threading
from typing import Any

from qrbench.config.gateway import GatewayWebhook
from qrbench.engines.gateway.requests import at_path


class QrInbox:
    """Sessions say which id they wait for before their start request is sent, so no event
    can come before its waiter; an event for no waiting session, or of another kind, is
    dropped."""

    def __init__(self, webhook: GatewayWebhook, loop: asyncio.AbstractEventLoop) -> None:
        self._webhook = webhook
        self._loop = loop
        self._lock = threading.Lock()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refusals: list[str] = []

    def expect(self, session_id: str) -> "asyncio.Future[dict[str, Any]]":
        """The future the session's first QR event resolves (on the harness's loop)."""
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        with self._lock:
            self._waiting[session_id] = future
        return future

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._waiting.pop(session_id, None)

    def deliver(self, event: dict[str, Any]) -> None:
        """Called by the receiver, on its thread, for every event it accepted."""
        webhook = self._webhook
        kind = at_path(event, webhook.event_field)
        session_id = at_path(event, webhook.session_field)
        wanted = (not webhook.events or kind in webhook.events) and isinstance(session_id, str)
        with self._lock:
            future = self._waiting.pop(session_id, None) if wanted else None
        if future is None:
            return
        self._loop.call_soon_threadsafe(_resolve, future, event)

    def refused(self, reason: str) -> None:
        """Called by the receiver, on its thread, for every request it refused."""
        with self._lock:
            self._refusals.append(reason)

    def refusals_so_far(self) -> int:
        with self._lock:
            return len(self._refusals)

    def refusals_since(self, mark: int) -> str:
        """What the receiver refused after `refusals_so_far()` said `mark`, for a session
        that saw no QR: `2 (bad signature)`; any session's, as refusals name none."""
        with self._lock:
            since = self._refusals[mark:]
        return f"{len(since)} ({', '.join(sorted(set(since)))})" if since else "none"


def _resolve(future: "asyncio.Future[dict[str, Any]]", event: dict[str, Any]) -> None:
    # A session that gave up (timed out, cancelled) has cancelled its future.
    if not future.done():
        future.set_result(event)
