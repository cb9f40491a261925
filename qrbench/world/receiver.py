"""qrbench's webhook receiver, standing in for the team's Laravel app."""

import asyncio
import hmac
import json
import threading
import time
from dataclasses import dataclass

from aiohttp import web

from qrbench.config.models import OriginNetwork
from qrbench.errors import EnvironmentProblem
from qrbench.world import pacing
from qrbench.world.loopback import LoopbackServer
from qrbench.world.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

_PATH = "/webhook"
# A request still pacing when the receiver stops is cut short after this; nobody waits for it.
_SHUTDOWN_TIMEOUT_S = 1.0
_RECEIVED = json.dumps({"received": True}).encode()


@dataclass(frozen=True)
class ReceivedEvent:
    event: str
    session_id: str | None
    accepted_at: float  # time.monotonic() when the receiver answered 200
    size_bytes: int


class Receiver:
    """Checks signature and timestamp, spends `processing_ms` per good request, answers 200.

    Every request and answer crosses `network`, the scenario's link to the receiver, paced
    on the server side (qrbench.world.pacing). Serves on its own thread and event loop
    (LoopbackServer), so the receiver's work never competes with the harness's event loop
    for timing.
    """

    def __init__(
        self,
        secret: str,
        processing_ms: int = 0,
        max_age_s: float = 300.0,
        network: OriginNetwork = pacing.UNSHAPED,
    ) -> None:
        if processing_ms < 0:
            raise ValueError("processing_ms must not be negative")
        if max_age_s < 0:
            raise ValueError("max_age_s must not be negative")
        self.secret = secret
        self.processing_ms = processing_ms
        self.max_age_s = max_age_s
        self.network = network
        self._lock = threading.Lock()
        self._events: list[ReceivedEvent] = []
        self._rejected = 0
        self._server = LoopbackServer(
            "webhook receiver", EnvironmentProblem, shutdown_timeout_s=_SHUTDOWN_TIMEOUT_S
        )

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def events(self) -> list[ReceivedEvent]:
        """The events answered 200 so far, oldest first."""
        with self._lock:
            return list(self._events)

    @property
    def rejected(self) -> int:
        """How many requests were refused with 401 (bad signature or stale timestamp)."""
        with self._lock:
            return self._rejected

    def start(self) -> str:
        """Listen on an ephemeral loopback port; blocks until it accepts. Returns the URL."""
        (address,) = self._server.bind(1)
        self._server.serve(self._apps)
        return f"http://{address}{_PATH}"

    def stop(self) -> None:
        """Close the listening socket and open connections, join the thread. Idempotent."""
        self._server.stop()

    def _apps(self) -> list[web.Application]:
        app = web.Application()
        app.router.add_post(_PATH, self._receive)
        return [app]

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        await pacing.round_trip(self.network)
        body = await pacing.read_body(request, self.network)
        refusal = self._refusal(
            request.headers.get(TIMESTAMP_HEADER, ""),
            request.headers.get(SIGNATURE_HEADER, ""),
            body,
        )
        if refusal is not None:
            with self._lock:
                self._rejected += 1
            return await self._answer(request, 401, refusal)
        try:
            envelope = json.loads(body)
        except ValueError:
            return await self._answer(request, 400, "body is not JSON")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
            return await self._answer(request, 400, "body has no event name")
        # The declared receiver processing time of the scenario (Laravel's work per request).
        await asyncio.sleep(self.processing_ms / 1000)
        # A gateway that gave up while its request crossed the link or while the receiver
        # worked never saw an answer: not delivered.
        if request.transport is None:
            return web.Response(status=499)
        data = envelope.get("data")
        session_id = data.get("session_id") if isinstance(data, dict) else None
        event = ReceivedEvent(
            event=envelope["event"],
            session_id=session_id if isinstance(session_id, str) else None,
            accepted_at=time.monotonic(),
            size_bytes=len(body),
        )
        with self._lock:
            self._events.append(event)
        return await pacing.send(request, self.network, _RECEIVED, content_type="application/json")

    async def _answer(self, request: web.Request, status: int, text: str) -> web.StreamResponse:
        return await pacing.send(
            request, self.network, text.encode(), content_type="text/plain", status=status
        )

    def _refusal(self, timestamp: str, signature: str, body: bytes) -> str | None:
        """Why a request must be refused with 401, or None when it is signed and fresh."""
        # Whole unix seconds in ASCII digits, as gateways send them; anything else cannot
        # be shown fresh.
        if not (timestamp.isascii() and timestamp.isdecimal()):
            return "stale timestamp"
        if abs(time.time() - int(timestamp)) > self.max_age_s:
            return "stale timestamp"
        # compare_digest takes only ASCII text; a non-ASCII header cannot be a hex digest.
        expected = sign(self.secret, timestamp, body)
        if not (signature.isascii() and hmac.compare_digest(expected, signature)):
            return "bad signature"
        return None
