"""A capacity step against the criterion, the knee, memory estimates and the gate's floor."""

import dataclasses

import numpy as np
import pytest

from qrbench.analysis.capacity import (
    Capacity,
    CapacityCheck,
    CapacityStep,
    KneeStep,
    MemoryEstimate,
    StepEnd,
    StepMemory,
    in_flight_estimate,
    judge_step,
    knee,
    step_sessions,
)
from qrbench.analysis.summary import Verdict
from qrbench.columns import MeasuredSessions
from qrbench.config.load import Load
from tests.helpers import CAPACITY_CRITERION, capacity_step, session

CRITERION = CAPACITY_CRITERION


def columns(times: list[float | None]) -> MeasuredSessions:
    return MeasuredSessions.of([session(n, t) for n, t in enumerate(times, start=1)])


def test_a_step_meets_the_criterion_with_its_p95_at_the_target_and_98_percent_success() -> None:
    times: list[float | None] = [1000.0 + n for n in range(49)] + [None]
    judged = judge_step(columns(times), CRITERION)
    # 49/50 is exactly 98 %: met, in integer arithmetic.
    assert judged.succeeded == 49 and judged.sessions == 50 and judged.meets
    assert judged.high is not None
    assert judged.high.value_ms == pytest.approx(np.percentile([1000.0 + n for n in range(49)], 95))
    assert judged.p50 is not None and judged.p50.value_ms == 1024.0

    one_more_failure = judge_step(columns([*times[:-2], None, None]), CRITERION)
    assert not one_more_failure.meets and one_more_failure.target.status is Verdict.PASS


def test_a_step_over_the_target_at_p95_misses_even_with_a_fast_median() -> None:
    times: list[float | None] = [1000.0] * 18 + [12_000.0, 13_000.0]
    judged = judge_step(columns(times), CRITERION)
    assert judged.p50 is not None and judged.p50.value_ms == 1000.0
    assert judged.target.status is Verdict.FAIL and not judged.meets


def test_a_step_with_no_session_meets_nothing() -> None:
    judged = judge_step(columns([]), CRITERION)
    assert judged.sessions == 0 and judged.p50 is None and judged.high is None
    assert not judged.meets


def step(number: int, load: Load, *, meets: bool, end: StepEnd = StepEnd.COMPLETE) -> CapacityStep:
    return capacity_step(number, load, [1000.0] * 10 if meets else [None] * 10, end=end)


def test_the_knee_is_the_largest_step_that_met_the_criterion() -> None:
    steps = [
        step(1, Load(concurrency=1), meets=True),
        step(2, Load(concurrency=2), meets=True),
        step(3, Load(concurrency=4), meets=False),
    ]
    found = knee(steps)
    assert found == KneeStep(step=2, capacity=2, unit=Capacity.CONCURRENCY, per_session_mb=300.0)
    assert knee(steps[2:]) is None
    # A step cut short (memory, swap) is no capacity the machine showed, whatever its sessions.
    cut = step(2, Load(concurrency=2), meets=True, end=StepEnd.MEMORY)
    assert knee([steps[0], cut]) == dataclasses.replace(found, step=1, capacity=1)


def test_an_arrival_rate_ramps_knee_is_a_rate() -> None:
    found = knee([step(1, Load(arrival_rate_per_min=30, seed=1), meets=True)])
    assert found is not None and found.capacity == 30 and found.unit is Capacity.ARRIVAL_RATE


def test_per_session_memory_is_pss_over_the_sessions_in_flight_at_the_peak() -> None:
    assert StepMemory(800.0, 600.0, 2, sessions_at_peak=2).per_session_mb == 300.0
    # Without PSS, RSS (which counts shared pages once per process) is what there is.
    assert StepMemory(800.0, None, 2, sessions_at_peak=2).per_session_mb == 400.0
    # A warm pool of two browsers serving eight sessions: eight share the memory.
    assert StepMemory(1600.0, 1200.0, 2, sessions_at_peak=8).per_session_mb == 150.0
    assert StepMemory(800.0, 600.0, 1, sessions_at_peak=0).per_session_mb is None


def test_a_memory_estimate_fits_only_above_the_headroom() -> None:
    estimate = MemoryEstimate(
        in_flight=10, per_session_mb=360.0, measured=False, available_mb=8000.0, headroom_mb=4000.0
    )
    assert estimate.needed_mb == 3600.0 and estimate.allowed_mb == 4000.0 and estimate.fits
    tighter = dataclasses.replace(estimate, available_mb=7000.0)
    assert not tighter.fits and tighter.most_in_flight == 8


def test_sessions_in_flight_of_an_arrival_rate_follow_littles_law_at_the_target() -> None:
    assert in_flight_estimate(Load(concurrency=6), 10_000, sessions=20) == 6
    # 60 a minute, each held up to 10 s: 10 in flight.
    assert in_flight_estimate(Load(arrival_rate_per_min=60), 10_000, sessions=20) == 10
    assert in_flight_estimate(Load(arrival_rate_per_min=1), 10_000, sessions=20) == 1
    # An arrival-rate step never has more in flight than it has sessions.
    assert in_flight_estimate(Load(arrival_rate_per_min=600), 10_000, sessions=20) == 20


def test_a_step_runs_at_least_as_many_sessions_as_it_has_in_flight() -> None:
    assert step_sessions(Load(concurrency=4), 20) == 20
    assert step_sessions(Load(concurrency=64), 20) == 64
    assert step_sessions(Load(arrival_rate_per_min=600), 20) == 20


def test_the_capacity_floor_fails_a_knee_below_it_or_none() -> None:
    at_four = KneeStep(step=3, capacity=4, unit=Capacity.CONCURRENCY, per_session_mb=None)
    assert CapacityCheck(min_capacity=4, knee=at_four).status is Verdict.PASS
    assert CapacityCheck(min_capacity=5, knee=at_four).status is Verdict.FAIL
    assert CapacityCheck(min_capacity=1, knee=None).status is Verdict.FAIL
