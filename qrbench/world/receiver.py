"""qrbench's webhook receiver, standing in for the team's Laravel app."""

import asyncio
import heapq
import hmac
import json
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web

from qrbench.config.models import OriginNetwork
from qrbench.errors import EnvironmentProblem
from qrbench.world import pacing
from qrbench.world.loopback import BIND_ADDRESS, LoopbackServer
from qrbench.world.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

_PATH = "/webhook"
# A request still pacing when the receiver stops is cut short after this; nobody waits for it.
_SHUTDOWN_TIMEOUT_S = 1.0
_RECEIVED = json.dumps({"received": True}).encode()
# Unix seconds have 10 digits until the year 2286; a longer header is no timestamp (and
# int() of thousands of digits raises instead of answering).
_TIMESTAMP_DIGITS = 12
_SIGNATURE_HEX = 64  # a SHA-256 HMAC as lowercase hex, as webhook.sign writes it


class Rejection(StrEnum):
    """Why the receiver refused a request; its counts go into the run's summary."""

    MALFORMED_HEADER = "malformed header"
    STALE_TIMESTAMP = "stale timestamp"
    BAD_SIGNATURE = "bad signature"
    REPLAYED = "replayed signature"
    MALFORMED_BODY = "malformed body"

    @property
    def status(self) -> int:
        malformed = self in (Rejection.MALFORMED_HEADER, Rejection.MALFORMED_BODY)
        return 400 if malformed else 401


@dataclass(frozen=True)
class ReceivedEvent:
    event: str
    session_id: str | None
    accepted_at: float  # time.monotonic() when the receiver answered 200
    size_bytes: int


class Receiver:
    """Checks signature and timestamp, spends `processing_ms` per good request, answers 200.

    A signature is accepted once: a captured request replayed inside the freshness window
    is refused. Only signatures whose timestamp is still inside the window are remembered
    (older ones would be refused as stale anyway), so memory stays bounded by the window.

    Unsigned (`signed=False`), it takes any JSON object, as a gateway's own webhook sends
    it. Every accepted event is handed to `on_event` and every refusal's reason to
    `on_refusal`, on the receiver's thread.

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
        *,
        signed: bool = True,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        on_refusal: Callable[[str], None] | None = None,
        bind_address: str = BIND_ADDRESS,
    ) -> None:
        if processing_ms < 0:
            raise ValueError("processing_ms must not be negative")
        if max_age_s < 0:
            raise ValueError("max_age_s must not be negative")
        self.secret = secret
        self.processing_ms = processing_ms
        self.max_age_s = max_age_s
        self.network = network
        self.signed = signed
        self._bind_address = bind_address
        self._on_event = on_event
        self._on_refusal = on_refusal
        self._lock = threading.Lock()
        self._events: list[ReceivedEvent] = []
        self._rejections: Counter[Rejection] = Counter()
        # Signatures accepted, and a heap of (timestamp, signature) to forget them by age.
        self._seen: set[str] = set()
        self._seen_by_age: list[tuple[int, str]] = []
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
    def rejections(self) -> dict[str, int]:
        """How many requests were refused, by reason (a `Rejection` value); none: empty."""
        with self._lock:
            return {reason.value: count for reason, count in self._rejections.items()}

    @property
    def remembered(self) -> int:
        """How many signatures the replay check holds now (bounded by the window)."""
        with self._lock:
            return len(self._seen)

    def start(self) -> str:
        """Listen on an ephemeral port (of loopback, unless told another address); blocks
        until it accepts. Returns the URL."""
        (address,) = self._server.bind(1, self._bind_address)
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
        refusal = None
        if self.signed:
            refusal = self._refusal(
                request.headers.get(TIMESTAMP_HEADER, ""),
                request.headers.get(SIGNATURE_HEADER, ""),
                body,
            )
        envelope = _envelope(body, signed=self.signed) if refusal is None else None
        if envelope is None:
            reason = refusal or Rejection.MALFORMED_BODY
            with self._lock:
                self._rejections[reason] += 1
            if self._on_refusal is not None:
                self._on_refusal(reason.value)
            return await self._answer(request, reason.status, reason.value)
        # The declared receiver processing time of the scenario (Laravel's work per request).
        await asyncio.sleep(self.processing_ms / 1000)
        # A gateway that gave up while its request crossed the link or while the receiver
        # worked never saw an answer: not delivered.
        if request.transport is None:
            return web.Response(status=499)
        data = envelope.get("data")
        session_id = data.get("session_id") if isinstance(data, dict) else None
        kind = envelope.get("event")
        event = ReceivedEvent(
            event=kind if isinstance(kind, str) else "",
            session_id=session_id if isinstance(session_id, str) else None,
            accepted_at=time.monotonic(),
            size_bytes=len(body),
        )
        with self._lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(envelope)
        return await pacing.send(request, self.network, _RECEIVED, content_type="application/json")

    async def _answer(self, request: web.Request, status: int, text: str) -> web.StreamResponse:
        return await pacing.send(
            request, self.network, text.encode(), content_type="text/plain", status=status
        )

    def _refusal(self, timestamp: str, signature: str, body: bytes) -> Rejection | None:
        """Why a request must be refused, or None when it is signed, fresh and new."""
        if not (_is_timestamp(timestamp) and _is_hex_digest(signature)):
            return Rejection.MALFORMED_HEADER
        now = time.time()
        if abs(now - int(timestamp)) > self.max_age_s:
            return Rejection.STALE_TIMESTAMP
        if not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            return Rejection.BAD_SIGNATURE
        with self._lock:
            self._forget_stale(now)
            if signature in self._seen:
                return Rejection.REPLAYED
            self._seen.add(signature)
            heapq.heappush(self._seen_by_age, (int(timestamp), signature))
        return None

    def _forget_stale(self, now: float) -> None:
        # A timestamp this old is refused as stale before its signature is looked up.
        while self._seen_by_age and now - self._seen_by_age[0][0] > self.max_age_s:
            _, signature = heapq.heappop(self._seen_by_age)
            self._seen.discard(signature)


def _is_timestamp(header: str) -> bool:
    # Whole unix seconds in ASCII digits, as gateways send them.
    return 0 < len(header) <= _TIMESTAMP_DIGITS and header.isascii() and header.isdecimal()


def _is_hex_digest(header: str) -> bool:
    return len(header) == _SIGNATURE_HEX and all(c in string.hexdigits for c in header)


def _envelope(body: bytes, *, signed: bool) -> dict[str, Any] | None:
    """The body's `{"event": ..., "data": ...}` (any JSON object when unsigned: the
    gateway's own format), or None when it is not one."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if not isinstance(envelope, dict):
        return None
    if signed and not isinstance(envelope.get("event"), str):
        return None
    return envelope
