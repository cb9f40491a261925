"""A run's measured sessions as the analysis reads them: a few numeric columns, no records.

compare, gate, explain and the caveats need only some numbers of each session (its
time-to-QR and number, each stage's duration, whether it succeeded) and failure counts.
Held as `array('d')`/`array('q')` they take 8 bytes a value, where a `SessionResult` per
session takes kilobytes: a 100k-session file is read in bounded memory
(`qrbench.results.read_run` folds the sessions in as it streams them). The same builder
takes the runner's in-memory sessions, so there is one analysis path for both.
"""

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from qrbench.records import PAGE_SERVICE, RecordError

# array("q") holds a session number up to this; a results file's number has no bound.
_MAX_NUMBER = 2**63 - 1


class SessionView(Protocol):
    """What picks a session: a `SessionResult`, or the few of its fields a reader decodes
    (`qrbench.session_decoding`)."""

    @property
    def number(self) -> int: ...
    @property
    def warmup(self) -> bool: ...
    @property
    def ok(self) -> bool: ...


class _StageView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def critical(self) -> bool: ...


class _SpanView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def start_ms(self) -> float: ...
    @property
    def duration_ms(self) -> float: ...


class _ErrorView(Protocol):
    @property
    def stage(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def message(self) -> str: ...


class SessionColumnsView(SessionView, Protocol):
    """What the columns read of a session: a `SessionResult`, or the struct a reader
    decodes it into (`qrbench.session_decoding`), which has its fields."""

    @property
    def time_to_qr_ms(self) -> float | None: ...
    @property
    def error(self) -> _ErrorView | None: ...
    @property
    def stages(self) -> Sequence[_StageView]: ...
    @property
    def spans(self) -> Sequence[_SpanView]: ...


@dataclass(frozen=True)
class FailureCount:
    stage: str
    type: str
    count: int
    example: str


class FailureTally:
    """Failures by (stage, error type), each with the first message seen as its example."""

    def __init__(self) -> None:
        # Insertion order is first-seen order: ties keep it, as Counter.most_common does.
        self._counts: dict[tuple[str, str], list[int | str]] = {}

    def add(self, error: _ErrorView) -> None:
        entry = self._counts.setdefault((error.stage, error.type), [0, error.message])
        entry[0] = int(entry[0]) + 1

    def counts(self) -> list[FailureCount]:
        """Most frequent first; equal counts in the order first seen."""
        ranked = sorted(self._counts.items(), key=lambda item: -int(item[1][0]))
        return [
            FailureCount(stage=stage, type=kind, count=int(count), example=str(example))
            for (stage, kind), (count, example) in ranked
        ]


@dataclass(frozen=True)
class StageSample:
    durations: "array[float]"  # in the order run
    critical: bool  # as the last session ran it


class StageTally:
    """Each stage's durations, stages in the order they first appear."""

    def __init__(self) -> None:
        self._durations: dict[str, array[float]] = {}
        self._critical: dict[str, bool] = {}

    def add(self, session: SessionColumnsView) -> None:
        for stage in session.stages:
            durations = self._durations.get(stage.name)
            if durations is None:
                durations = self._durations[stage.name] = array("d")
            durations.append(stage.duration_ms)
            self._critical[stage.name] = stage.critical

    def samples(self) -> dict[str, StageSample]:
        return {
            name: StageSample(values, self._critical[name])
            for name, values in self._durations.items()
        }


class SpanTally:
    """Each gateway span name's duration in the successful sessions that have it (its
    first, by start, when a session has several), names in the order they first appear.
    The replica page's own spans are not compared: its stage (qr_wait) is."""

    def __init__(self) -> None:
        self._durations: dict[str, array[float]] = {}

    def add(self, session: SessionColumnsView) -> None:
        seen: set[str] = set()
        for span in sorted(session.spans, key=lambda span: span.start_ms):
            if span.name in seen or span.service == PAGE_SERVICE:
                continue
            seen.add(span.name)
            durations = self._durations.get(span.name)
            if durations is None:
                durations = self._durations[span.name] = array("d")
            durations.append(span.duration_ms)

    def in_every(self, sessions: int) -> "dict[str, array[float]]":
        """The names met in every one of `sessions` sessions: those compare as stages do."""
        return {name: values for name, values in self._durations.items() if len(values) == sessions}


@dataclass(frozen=True)
class MeasuredSessions:
    """The measured (non-warmup) sessions of a run, as columns; timings of successful ones."""

    # Every measured session's number, in the order run.
    numbers: "array[int]"
    succeeded: int
    # Time-to-QR of the successful sessions that have one, and those sessions' numbers.
    qr_numbers: "array[int]"
    qr_times: "array[float]"  # ms
    # Stage durations over the successful sessions.
    stages: dict[str, StageSample]
    # A traced gateway's span durations, by span name, for names in every successful one.
    spans: "dict[str, array[float]]"
    # Over every measured session, failed or not (a session records at most one error).
    failures: list[FailureCount]

    def __len__(self) -> int:
        return len(self.numbers)

    @classmethod
    def of(cls, sessions: Iterable[SessionColumnsView]) -> "MeasuredSessions":
        """Columns of `sessions`, warmups left out (a list, or sessions as they are read)."""
        builder = ColumnsBuilder()
        for session in sessions:
            builder.add(session)
        return builder.build()


class ColumnsBuilder:
    """Takes sessions one at a time and keeps only the columns: nothing refers to a session
    once `add` returns, so a streamed file's records are freed as they are read."""

    def __init__(self) -> None:
        self._numbers: array[int] = array("q")
        self._succeeded = 0
        self._qr_numbers: array[int] = array("q")
        self._qr_times: array[float] = array("d")
        self._stages = StageTally()
        self._spans = SpanTally()
        self._failures = FailureTally()

    def add(self, session: SessionColumnsView) -> None:
        if session.warmup:
            return
        if session.number > _MAX_NUMBER:
            raise RecordError(f"number: expected at most {_MAX_NUMBER}, got {session.number}")
        self._numbers.append(session.number)
        if session.error is not None:
            self._failures.add(session.error)
        if not session.ok:
            return
        self._succeeded += 1
        self._stages.add(session)
        self._spans.add(session)
        if session.time_to_qr_ms is not None:
            self._qr_numbers.append(session.number)
            self._qr_times.append(session.time_to_qr_ms)

    def build(self) -> MeasuredSessions:
        return MeasuredSessions(
            numbers=self._numbers,
            succeeded=self._succeeded,
            qr_numbers=self._qr_numbers,
            qr_times=self._qr_times,
            stages=self._stages.samples(),
            spans=self._spans.in_every(self._succeeded),
            failures=self._failures.counts(),
        )
