"""A capacity ramp's figures: each step against the study's criterion, the knee, the memory
a step would need, and the gate's capacity floor. Data only: the CLI phrases and renders.

The criterion is the gate's: time-to-QR at the percentile (p95) of the successful sessions
at most the target, and the share of sessions that showed a QR at least the minimum
(98 %), with the same thresholds (`analysis/thresholds.py`, the profile's `gate:` section).
"""

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from qrbench.analysis.gate import SuccessCheck, TargetCheck
from qrbench.analysis.stats import quantile_ci, summarize
from qrbench.analysis.summary import Verdict
from qrbench.analysis.thresholds import Thresholds
from qrbench.columns import MeasuredSessions
from qrbench.config.load import Load

# What one whatsapp-web.js session's Chromium takes (qrbench measured a peak RSS median of
# 364 MB per session, issue 13): the estimate before a step of this machine is measured.
DOCUMENTED_SESSION_MB = 360.0
# Below this many sessions a step's p95 and success rate say little (p95 needs 20 for one
# session to lie beyond it): refused, unless a test asks the core for fewer.
MIN_SESSIONS_PER_STEP = 10
DEFAULT_SESSIONS_PER_STEP = 20
DEFAULT_HEADROOM_PERCENT = 20.0
# The default ramp doubles from 1 up to this, unless the criterion or memory stops it first.
DEFAULT_MAX_CONCURRENCY = 1024


class Capacity(StrEnum):
    """What a ramp steps through, and so the unit of its knee."""

    CONCURRENCY = "sessions in flight"
    ARRIVAL_RATE = "sessions per minute"


@dataclass(frozen=True)
class Quantile:
    """A percentile of time-to-QR with its 95 % CI (a bound None: too few sessions for it)."""

    value_ms: float
    ci_low_ms: float | None
    ci_high_ms: float | None


@dataclass(frozen=True)
class StepJudgement:
    """One step's sessions against the criterion."""

    sessions: int
    succeeded: int
    p50: Quantile | None
    # At the criterion's percentile (p95 unless the thresholds say otherwise).
    high: Quantile | None
    target: TargetCheck
    success: SuccessCheck

    @property
    def meets(self) -> bool:
        """The step met the criterion (a step with no session meets nothing)."""
        return (
            self.sessions > 0
            and self.target.status is Verdict.PASS
            and self.success.status is Verdict.PASS
        )


def judge_step(columns: MeasuredSessions, thresholds: Thresholds) -> StepJudgement:
    times = list(columns.qr_times)
    timing = summarize(times)
    p50 = high = None
    if timing is not None:
        p50 = Quantile(timing.median, timing.median_ci_low, timing.median_ci_high)
        # The gate's interpolated percentile, so a step and `gate` agree on the same run.
        value = float(np.percentile(times, thresholds.percentile))
        high = Quantile(value, *quantile_ci(times, thresholds.percentile))
    return StepJudgement(
        sessions=len(columns),
        succeeded=columns.succeeded,
        p50=p50,
        high=high,
        target=TargetCheck(
            percentile=thresholds.percentile,
            target_ms=thresholds.target_ms,
            value_ms=None if high is None else high.value_ms,
            successful=len(times),
        ),
        success=SuccessCheck(
            min_success_percent=thresholds.min_success_percent,
            succeeded=columns.succeeded,
            measured=len(columns),
            failures=columns.failures,
        ),
    )


@dataclass(frozen=True)
class MemoryEstimate:
    """Whether `in_flight` sessions of `per_session_mb` fit in what the headroom leaves."""

    in_flight: int
    per_session_mb: float
    # Measured on this machine (a finished step), or DOCUMENTED_SESSION_MB.
    measured: bool
    available_mb: float
    headroom_mb: float

    @property
    def needed_mb(self) -> float:
        return self.in_flight * self.per_session_mb

    @property
    def allowed_mb(self) -> float:
        """What the sessions may take: the memory available now above the headroom."""
        return max(0.0, self.available_mb - self.headroom_mb)

    @property
    def fits(self) -> bool:
        return self.needed_mb <= self.allowed_mb

    @property
    def most_in_flight(self) -> int:
        """The most sessions that fit."""
        return math.floor(self.allowed_mb / self.per_session_mb) if self.per_session_mb else 0


def headroom_mb(total_mb: float, headroom_percent: float) -> float:
    return total_mb * headroom_percent / 100


def step_sessions(load: Load, sessions_per_step: int) -> int:
    """A step's measured sessions: at least its concurrency, or it never has that many in
    flight and measures a lighter load than it names."""
    if load.arrival_rate_per_min is None:
        return max(sessions_per_step, load.concurrency)
    return sessions_per_step


def in_flight_estimate(load: Load, target_ms: float, sessions: int) -> int:
    """Sessions in flight at a load: its concurrency, or for an arrival rate Little's law
    at the target (a step that meets the criterion holds each session at most that long),
    never more than the step's `sessions`."""
    if load.arrival_rate_per_min is None:
        return load.concurrency
    at_target = math.ceil(load.arrival_rate_per_min / 60 * target_ms / 1000)
    return max(1, min(at_target, sessions))


def capacity_of(load: Load) -> tuple[float, Capacity]:
    """A step's load as a capacity figure and its unit."""
    if load.arrival_rate_per_min is not None:
        return load.arrival_rate_per_min, Capacity.ARRIVAL_RATE
    return load.concurrency, Capacity.CONCURRENCY


class StepEnd(StrEnum):
    """How a step ended: all its sessions ran, or it was stopped to spare the machine."""

    COMPLETE = "complete"
    MEMORY = "memory"  # memory available fell to the headroom
    SWAP = "swap"  # swap use grew


@dataclass(frozen=True)
class StepMemory:
    """The Chromium trees of a step at their peak."""

    peak_rss_mb: float
    peak_pss_mb: float | None  # None where the kernel gives no PSS
    browsers_at_peak: int
    # Sessions between their start and end at the peak: what the memory was serving.
    sessions_at_peak: int

    @property
    def per_session_mb(self) -> float | None:
        """PSS (else RSS) at the peak over the sessions in flight then: shared pages once,
        and a warm pool's browsers shared by the sessions they serve."""
        if not self.sessions_at_peak:
            return None
        peak = self.peak_rss_mb if self.peak_pss_mb is None else self.peak_pss_mb
        return peak / self.sessions_at_peak


@dataclass(frozen=True)
class CapacityStep:
    number: int
    load: Load
    results_path: str
    end: StepEnd
    duration_s: float
    judgement: StepJudgement
    # The machine's CPU use over the step, every core together (100 % = all busy).
    cpu_percent: float
    # None when no Chromium of this run could be seen (browsers on another machine).
    memory: StepMemory | None
    swap_used_start_mb: float
    swap_used_peak_mb: float

    @property
    def meets(self) -> bool:
        return self.end is StepEnd.COMPLETE and self.judgement.meets


class StopReason(StrEnum):
    """Why a ramp ended."""

    CRITERION = "criterion"  # a step broke the criterion
    LAST_STEP = "last step"  # every step met it: the limit was reached
    MEMORY = "memory"  # the next step would not fit, or a step ran into the headroom
    SWAP = "swap"  # swap use grew during a step


@dataclass(frozen=True)
class Stop:
    reason: StopReason
    # The step that broke the criterion or was cut short, or the one that would not fit.
    step: int | None
    load: Load | None
    # For a step that would not fit: what it would need.
    estimate: MemoryEstimate | None = None


@dataclass(frozen=True)
class KneeStep:
    """The largest step that met the criterion: what the ramp says this machine holds."""

    step: int
    capacity: float
    unit: Capacity
    per_session_mb: float | None


@dataclass(frozen=True)
class CapacityCheck:
    """The gate's capacity floor: the knee at least `min_capacity` (in the ramp's unit)."""

    min_capacity: float
    knee: KneeStep | None

    @property
    def name(self) -> str:
        return "capacity"

    @property
    def status(self) -> Verdict:
        low = self.knee is None or self.knee.capacity < self.min_capacity
        return Verdict.FAIL if low else Verdict.PASS


def knee(steps: list[CapacityStep]) -> KneeStep | None:
    """The largest step that met the criterion; None when none did."""
    met = [step for step in steps if step.meets]
    if not met:
        return None
    best = max(met, key=lambda step: capacity_of(step.load)[0])
    capacity, unit = capacity_of(best.load)
    per_session = None if best.memory is None else best.memory.per_session_mb
    return KneeStep(step=best.number, capacity=capacity, unit=unit, per_session_mb=per_session)
