"""A gateway session's trace: the W3C `traceparent` qrbench sends on its requests, and the
spans the gateway exported for it, placed on the session's clock (docs/tracing.md)."""

import asyncio
import secrets
import time
from dataclasses import dataclass

from qrbench.clock import SessionTimer
from qrbench.records import SpanTiming, StageTiming
from qrbench.world.otlp import OtlpReceiver, ReceivedSpan

TRACEPARENT = "traceparent"
# Spans still coming are waited for until this long has passed without one.
_QUIET_S = 0.3
_POLL_S = 0.05


@dataclass(frozen=True)
class SessionTrace:
    trace_id: str
    # qrbench's own span around its requests: the parent the gateway's server span names.
    span_id: str
    # The same moment on the wall clock (spans' times) and on the monotonic one (qrbench's).
    anchor_unix_ns: int
    anchor_monotonic_s: float

    @classmethod
    def new(cls) -> "SessionTrace":
        return cls(
            trace_id=secrets.token_hex(16),
            span_id=secrets.token_hex(8),
            anchor_unix_ns=time.time_ns(),
            anchor_monotonic_s=time.monotonic(),
        )

    @property
    def traceparent(self) -> str:
        # Version 00, sampled: a gateway's sampler that follows its parent records it.
        return f"00-{self.trace_id}-{self.span_id}-01"

    def monotonic_s(self, unix_ns: int) -> float:
        return self.anchor_monotonic_s + (unix_ns - self.anchor_unix_ns) / 1e9


async def settled_spans(otlp: OtlpReceiver, trace: SessionTrace, wait_ms: int) -> None:
    """Wait for the trace's spans still on their way (a batch exporter sends them late):
    until none came for a moment, since the last one and since the call, or `wait_ms`
    after the call."""
    started = time.monotonic()
    deadline = started + wait_ms / 1000
    while (now := time.monotonic()) < deadline:
        last = otlp.last_arrival(trace.trace_id)
        # Quiet since the wait began, too: the spans that end with the QR are still due.
        if last is not None and now - max(last, started) >= _QUIET_S:
            return
        await asyncio.sleep(_POLL_S)


def placed(
    spans: list[ReceivedSpan],
    trace: SessionTrace,
    timer: SessionTimer,
    stages: list[StageTiming],
) -> list[SpanTiming]:
    """The spans on the session's clock, oldest first, each under the stage it starts in."""
    timings = []
    for span in sorted(spans, key=lambda span: span.start_unix_ns):
        start_ms = timer.at_ms(trace.monotonic_s(span.start_unix_ns))
        parent = span.parent_span_id
        timings.append(
            SpanTiming(
                name=span.name,
                service=span.service,
                span_id=span.span_id,
                parent_span_id=None if parent == trace.span_id else parent,
                start_ms=start_ms,
                duration_ms=(span.end_unix_ns - span.start_unix_ns) / 1e6,
                stage=_stage_at(start_ms, stages),
                ok=span.ok,
            )
        )
    return timings


def _stage_at(at_ms: float, stages: list[StageTiming]) -> str | None:
    for stage in stages:
        if stage.start_ms <= at_ms < stage.end_ms:
            return stage.name
    return None
