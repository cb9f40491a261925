"""The summary of a run: per-stage statistics, success and the verdict against the deadline."""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from qrbench.analysis.caveats import Caveat, stability_caveats
from qrbench.analysis.sequential import TargetStop
from qrbench.analysis.spans import SpanRow, span_rows
from qrbench.analysis.stats import MetricSummary, summarize
from qrbench.columns import (
    FailureCount,
    FailureTally,
    MeasuredSessions,
    StageSample,
)
from qrbench.records import SessionError, SessionResult


class Verdict(StrEnum):
    """A run against its deadline, a gate check against its threshold, a gate as a whole."""

    PASS = "PASS"
    FAIL = "FAIL"


@dataclass(frozen=True)
class StageSummary:
    name: str
    critical: bool
    timing: MetricSummary


@dataclass(frozen=True)
class RunSummary:
    measured: int
    succeeded: int
    within_deadline: int
    deadline_ms: float
    verdict: Verdict
    time_to_qr_ms: MetricSummary | None
    qr_delivered_ms: MetricSummary | None
    time_to_ready_ms: MetricSummary | None
    stages: list[StageSummary]
    peak_rss_mb: MetricSummary | None
    cpu_time_s: MetricSummary | None
    failures: list[FailureCount]
    background_failures: list[FailureCount]
    auth: dict[str, int]
    web_cache: dict[str, int]
    # Before trusting time-to-QR: too few runs, too much noise.
    caveats: list[Caveat]
    # What the user lives through when things go wrong (scenario faults, retries).
    attempts: int  # over the measured sessions, retries included
    recovered_by_retry: int  # sessions whose QR came from a second or later attempt
    faults: dict[str, int]  # the scenario's faults that struck, by kind, over every attempt
    retried_failures: list[FailureCount]  # failed attempts a later attempt replaced
    time_to_failure_ms: MetricSummary | None  # failed sessions: session start to giving up
    # time-to-QR at `USER_PERCENTILE` over every measured session, a failed one counting as
    # a miss: None when that percentile falls on a failed session.
    user_p95_ms: float | None
    # Requests qrbench's webhook receiver refused, by reason (receiver.Rejection values).
    webhook_rejected: dict[str, int]
    # What qrbench's OTLP endpoint dropped, by reason (otlp.Refusal values); engine gateway.
    otlp_refused: dict[str, int] = field(default_factory=dict)
    # A traced gateway's spans, a row per span path (analysis.spans); engine gateway.
    spans: list[SpanRow] = field(default_factory=list)
    # How `--runs auto` ended; None for --runs N.
    auto_stop: TargetStop | None = None
    # The profile directory each successful session left (MB), where it is on this machine.
    profile_dir_mb: MetricSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        rounded: dict[str, Any] = _rounded(asdict(self))
        # Only a traced gateway's runs have them, and only --runs auto the last; other
        # summaries stay as they were.
        for key in ("otlp_refused", "spans", "auto_stop"):
            if not rounded[key]:
                del rounded[key]
        return rounded


def _rounded(value: Any) -> Any:
    # Timings are taken to the microsecond; more digits in a file only hide the numbers.
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


USER_PERCENTILE = 95.0


def percentile_with_misses(times_ms: list[float | None], percentile: float) -> float | None:
    """Nearest-rank percentile where None (a failed session) ranks after every time.

    None when the percentile falls on a failure: the user at that rank got no QR at all.
    Nearest rank, not interpolation, because between a time and a miss there is no value.
    """
    if not times_ms:
        return None
    ranked = sorted(math.inf if time_ms is None else time_ms for time_ms in times_ms)
    rank = max(1, math.ceil(percentile / 100 * len(ranked)))
    value = ranked[rank - 1]
    return None if math.isinf(value) else value


def summarize_run(
    sessions: list[SessionResult],
    deadline_ms: float,
    webhook_rejected: dict[str, int] | None = None,
    otlp_refused: dict[str, int] | None = None,
    auto_stop: TargetStop | None = None,
) -> RunSummary:
    """Statistics over the measured (non-warmup) sessions; timings over successful ones."""
    measured = [s for s in sessions if not s.warmup]
    succeeded = [s for s in measured if s.ok]
    within = sum(1 for s in measured if s.within_deadline)
    # The figures compare and gate read too, taken the same way.
    columns = MeasuredSessions.of(measured)
    time_to_qr = summarize(columns.qr_times)
    attempts = [attempt for s in measured for attempt in s.attempts]
    return RunSummary(
        measured=len(measured),
        succeeded=len(succeeded),
        within_deadline=within,
        deadline_ms=deadline_ms,
        verdict=Verdict.PASS if measured and within == len(measured) else Verdict.FAIL,
        time_to_qr_ms=time_to_qr,
        qr_delivered_ms=summarize(
            [s.qr_delivered_ms for s in succeeded if s.qr_delivered_ms is not None]
        ),
        time_to_ready_ms=summarize(
            [s.time_to_ready_ms for s in succeeded if s.time_to_ready_ms is not None]
        ),
        stages=_stage_summaries(columns.stages),
        peak_rss_mb=summarize([s.resources.peak_rss_mb for s in succeeded if s.resources]),
        cpu_time_s=summarize([s.resources.cpu_time_s for s in succeeded if s.resources]),
        failures=columns.failures,
        background_failures=count_failures([e for s in measured for e in s.background_errors]),
        auth=dict(Counter(s.auth for s in measured)),
        web_cache=dict(Counter(s.web_cache for s in measured)),
        caveats=stability_caveats(time_to_qr, label=None),
        attempts=len(attempts),
        recovered_by_retry=sum(1 for s in succeeded if len(s.attempts) > 1),
        faults=dict(Counter(a.fault for a in attempts if a.fault is not None)),
        retried_failures=count_failures(
            [a.error for s in measured for a in s.attempts[:-1] if a.error is not None]
        ),
        time_to_failure_ms=summarize(
            [s.error.elapsed_ms for s in measured if not s.ok and s.error is not None]
        ),
        user_p95_ms=percentile_with_misses(
            [s.time_to_qr_ms if s.ok else None for s in measured], USER_PERCENTILE
        ),
        webhook_rejected=dict(webhook_rejected or {}),
        otlp_refused=dict(otlp_refused or {}),
        auto_stop=auto_stop,
        profile_dir_mb=summarize(
            [s.profile_dir_mb for s in succeeded if s.profile_dir_mb is not None]
        ),
        spans=span_rows(measured),
    )


def _stage_summaries(samples: dict[str, StageSample]) -> list[StageSummary]:
    summaries = []
    for name, sample in samples.items():
        timing = summarize(sample.durations)
        assert timing is not None  # every listed stage has at least one sample
        summaries.append(StageSummary(name=name, critical=sample.critical, timing=timing))
    return summaries


def count_failures(errors: Iterable[SessionError]) -> list[FailureCount]:
    """Failures by (stage, error type), most frequent first, each with an example message."""
    tally = FailureTally()
    for error in errors:
        tally.add(error)
    return tally.counts()
