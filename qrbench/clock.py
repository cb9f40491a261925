"""One monotonic clock per session, and the stage records taken from it."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from qrbench.cancellation import stop_if_asked
from qrbench.records import StageTiming

_STAGE_ATTRIBUTE = "qrbench_stage"


def failed_stage_of(exc: BaseException) -> str | None:
    """The stage an exception escaped from, if it escaped from one."""
    stage = getattr(exc, _STAGE_ATTRIBUTE, None)
    return stage if isinstance(stage, str) else None


def blame(exc: BaseException, stage: str) -> None:
    """Say `exc` escaped from `stage`, unless an inner stage already said so."""
    if failed_stage_of(exc) is None:
        setattr(exc, _STAGE_ATTRIBUTE, stage)


class StageSpan:
    """An open stage. `end_at` lets an event stamped elsewhere (a page binding)
    close the stage at the moment it happened rather than when we got around to it."""

    def __init__(self, start_ms: float) -> None:
        self.start_ms = start_ms
        self.end_ms: float | None = None

    def end_at(self, end_ms: float) -> None:
        self.end_ms = end_ms


class SessionTimer:
    def __init__(self, on_stage_start: Callable[[str], None] | None = None) -> None:
        self._origin = time.monotonic()
        self._on_stage_start = on_stage_start
        self.stages: list[StageTiming] = []

    def now_ms(self) -> float:
        return (time.monotonic() - self._origin) * 1000.0

    def at_ms(self, monotonic_s: float) -> float:
        """A moment of `time.monotonic`'s clock (another process's too: on Linux it is
        CLOCK_MONOTONIC, which every process shares) on the session's clock."""
        return (monotonic_s - self._origin) * 1000.0

    @contextmanager
    def harness(self) -> Iterator[None]:
        """Work qrbench does that no gateway would (emulating the scenario's world): the
        session clock stands still for it, so no stage or time-to-QR includes it."""
        paused_at = time.monotonic()
        try:
            yield
        finally:
            self.exclude(paused_at, time.monotonic())

    def exclude(self, start_s: float, end_s: float) -> None:
        """Take harness work between two monotonic moments off the clock, after the fact
        (work another process reported); moments before it keep their place."""
        self._origin += max(0.0, end_s - start_s)

    def started(self, name: str) -> None:
        """Announce a stage as it begins. A cancellation that the stage before swallowed
        ends the session here, not after every stage still to come."""
        stop_if_asked()
        if self._on_stage_start is not None:
            self._on_stage_start(name)

    def place(self, name: str, start_ms: float, end_ms: float, *, critical: bool, ok: bool) -> None:
        """Record a stage whose boundaries were stamped elsewhere, on this clock."""
        self.stages.append(
            StageTiming(
                name=name,
                start_ms=start_ms,
                duration_ms=max(0.0, end_ms - start_ms),
                critical=critical,
                ok=ok,
            )
        )

    @contextmanager
    def stage(
        self, name: str, *, critical: bool, start_ms: float | None = None
    ) -> Iterator[StageSpan]:
        """Time the body as stage `name`; a raising body is recorded as failed, and the
        exception remembers the stage (see `failed_stage_of`)."""
        span = StageSpan(self.now_ms() if start_ms is None else start_ms)
        self.started(name)
        try:
            yield span
        except BaseException as exc:
            # The innermost stage is where it failed; background stages fail on their own
            # exceptions, so concurrent stages cannot blame each other.
            blame(exc, name)
            self._record(name, span, critical=critical, ok=False)
            raise
        self._record(name, span, critical=critical, ok=True)

    def _record(self, name: str, span: StageSpan, *, critical: bool, ok: bool) -> None:
        end_ms = self.now_ms() if span.end_ms is None or not ok else span.end_ms
        self.place(name, span.start_ms, end_ms, critical=critical, ok=ok)

    def critical_end_ms(self) -> float:
        return max((s.end_ms for s in self.stages if s.critical), default=0.0)
