import asyncio
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from qrbench.analysis.sequential import (
    FIRST_LOOK_PAIRS,
    RegressionSettled,
    Settled,
    TargetSettled,
)
from qrbench.analysis.thresholds import Thresholds
from qrbench.errors import ConfigError
from qrbench.measure.runner import Machinery, run_interleaved
from qrbench.measure.sampling import (
    AdaptiveDesign,
    Budget,
    Contrast,
    FixedRuns,
    ShiftSampling,
    StopReason,
    Tally,
    TargetSampling,
)
from tests.fakes import FakeEngines, FakeProvider, plan_for
from tests.run_helpers import RecordingListener

THRESHOLDS = Thresholds(
    target_ms=1000, percentile=95, min_success_percent=98, max_regression_percent=10
)


def _tally(draws: np.ndarray, taken: int) -> Tally:
    """The first `taken` draws as a profile's sessions, one per round from round 1."""
    return Tally(taken, {number: float(draws[number - 1]) for number in range(1, taken + 1)})


def _drive(sampling: ShiftSampling | TargetSampling, draws: Mapping[str, np.ndarray]) -> int:
    """Feed `sampling` the draws its rounds ask for; returns the rounds it ran."""
    taken = dict.fromkeys(draws, 0)
    while labels := sampling.next_round(
        {label: _tally(draws[label], taken[label]) for label in draws}
    ):
        for label in labels:
            taken[label] += 1
    return sampling.rounds


def test_a_large_shift_stops_early_as_settled() -> None:
    rng = np.random.default_rng(1)
    draws = {"a": rng.normal(1000, 50, 100), "b": rng.normal(1300, 50, 100)}
    sampling = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=60))
    rounds = _drive(sampling, draws)
    assert sampling.stopped is StopReason.SETTLED
    assert FIRST_LOOK_PAIRS <= rounds < FIRST_LOOK_PAIRS + 5
    look = sampling.looks()[Contrast("b", "a")]
    assert look is not None and look.settled is Settled.SLOWER


def test_max_runs_ends_a_question_that_stays_open() -> None:
    rng = np.random.default_rng(2)
    draws = {"a": rng.normal(1000, 300, 100), "b": rng.normal(1000, 300, 100)}
    sampling = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=30, margin_ms=5))
    assert _drive(sampling, draws) == 30
    assert sampling.stopped is StopReason.MAX_RUNS


def test_settled_contrasts_stop_running_their_profiles() -> None:
    rng = np.random.default_rng(3)
    draws = {
        "base": rng.normal(1000, 60, 100),
        "big": rng.normal(1600, 60, 100),
        "small": rng.normal(1030, 60, 100),
    }
    sampling = ShiftSampling(
        [Contrast("big", "base"), Contrast("small", "base")],
        AdaptiveDesign(max_runs=40, margin_ms=10),
    )
    asked: list[list[str]] = []
    taken = dict.fromkeys(draws, 0)
    while labels := sampling.next_round(
        {label: _tally(draws[label], taken[label]) for label in draws}
    ):
        asked.append(labels)
        for label in labels:
            taken[label] += 1
    assert asked[0] == ["base", "big", "small"]
    assert asked[-1] == ["base", "small"]
    assert taken["big"] < taken["small"] == taken["base"]


def test_a_budget_stops_before_the_round_that_would_overrun_it() -> None:
    now = [0.0]
    budget = Budget(100.0, clock=lambda: now[0])
    assert budget.allows(0)
    now[0] = 30.0  # one round took 30 s
    assert budget.allows(1)  # 30 + 30 <= 100
    now[0] = 60.0
    assert budget.allows(2)  # 60 + 30 <= 100
    now[0] = 90.0
    assert not budget.allows(3)
    assert Budget(None).allows(5)


def test_a_budget_plans_for_its_longest_round_not_its_average() -> None:
    now = [0.0]
    budget = Budget(100.0, clock=lambda: now[0])
    assert budget.allows(0)
    now[0] = 10.0
    assert budget.allows(1)
    now[0] = 50.0  # a round of 40 s: a session that timed out
    assert budget.allows(2)  # 50 + 40 <= 100
    now[0] = 70.0
    assert not budget.allows(3)  # 70 + 40 > 100, where the mean round (23 s) would run it


def test_the_first_round_runs_whatever_the_budget() -> None:
    now = [0.0]
    budget = Budget(100.0, clock=lambda: now[0])
    now[0] = 150.0  # set-up and warmup took longer than the whole budget
    assert budget.allows(0)
    assert not budget.allows(1)


def test_the_last_look_a_budget_allows_spends_the_alpha_left() -> None:
    # Rounds of 9 s against 100 s: the look after round 11 is the last, and spends what
    # the Pocock-type function had kept for the rounds up to 60.
    rng = np.random.default_rng(6)
    draws = {"a": rng.normal(1000, 300, 60), "b": rng.normal(1000, 300, 60)}
    sampling = ShiftSampling(
        [Contrast("b", "a")], AdaptiveDesign(max_runs=60, budget_s=100), np.random.default_rng(7)
    )
    now = [0.0]
    sampling.budget = Budget(100.0, clock=lambda: now[0])
    taken = 0
    while sampling.next_round({label: _tally(draws[label], taken) for label in draws}):
        taken += 1
        now[0] += 9.0
    assert sampling.stopped is StopReason.BUDGET and taken == 11
    design = sampling.monitors[Contrast("b", "a")].design
    assert 0.049 < design.spent <= 0.05


def test_a_budget_that_ends_before_the_first_look_says_so_after_one_round() -> None:
    # Rounds of 30 s against 200 s: about 6 fit, and the first look is at 10.
    rng = np.random.default_rng(10)
    draws = {"a": rng.normal(1000, 300, 60), "b": rng.normal(1000, 300, 60)}
    sampling = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=60, budget_s=200))
    now = [0.0]
    sampling.budget = Budget(200.0, clock=lambda: now[0])
    notices: list[list[str]] = []
    taken = 0
    while sampling.next_round({label: _tally(draws[label], taken) for label in draws}):
        notices.append(sampling.take_notices())
        taken += 1
        now[0] += 30.0
    assert notices[0] == [] and all(not later for later in notices[2:])
    (notice,) = notices[1]
    assert notice.startswith("--budget 200 s holds about 6 round(s) of 30 s;")
    assert f"first looked at after {FIRST_LOOK_PAIRS}" in notice
    # One long enough to reach the first look says nothing.
    roomy = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=60, budget_s=600))
    roomy.budget = Budget(600.0, clock=lambda: now[0])
    now[0], taken = 0.0, 0
    while roomy.next_round({label: _tally(draws[label], taken) for label in draws}):
        assert roomy.take_notices() == []
        taken += 1
        now[0] += 30.0


def test_a_budget_too_small_to_settle_says_so() -> None:
    rng = np.random.default_rng(4)
    draws = {"a": rng.normal(1000, 300, 50), "b": rng.normal(1000, 300, 50)}
    sampling = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=40, budget_s=0.0))
    assert _drive(sampling, draws) == 1
    assert sampling.stopped is StopReason.BUDGET
    assert sampling.looks()[Contrast("b", "a")] is None


def test_max_runs_under_the_design_minimum_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="needs at least 20, room to look more than once"):
        AdaptiveDesign(max_runs=12)


def test_a_target_run_fails_fast_and_a_fast_one_runs_until_its_p95_is_known() -> None:
    failing = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=300))
    assert _drive(failing, {"p": np.full(300, 2000.0)}) < 10
    assert failing.stopped is StopReason.SETTLED
    passing = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=300))
    rounds = _drive(passing, {"p": np.random.default_rng(5).normal(500, 20, 300)})
    assert passing.stopped is StopReason.SETTLED and passing.last is not None
    assert 60 < rounds < 300


def test_with_a_baseline_a_regression_ends_the_run_and_a_pass_waits_for_the_regression() -> None:
    rng = np.random.default_rng(9)
    baseline = rng.normal(400, 20, 20)
    regressed = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=300), baseline)
    rounds = _drive(regressed, {"p": rng.normal(800, 20, 300)})
    # Under the 1 s target at p95 (which takes ~80 sessions to show), but twice the
    # baseline: the regression alone ends the run.
    assert regressed.stopped is StopReason.SETTLED and rounds < 30
    stop = regressed.outcome()
    assert stop.look is not None and stop.look.settled is TargetSettled.OPEN
    assert stop.regression is not None and stop.regression.settled is RegressionSettled.REGRESSED
    alone = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=300))
    same = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=300), baseline)
    draws = {"p": rng.normal(400, 20, 300)}
    assert _drive(same, draws) >= _drive(alone, draws)
    stop = same.outcome()
    assert stop.regression is not None and stop.regression.settled is RegressionSettled.WITHIN


def test_the_runner_runs_the_rounds_and_profiles_sampling_asks_for(tmp_path: Path) -> None:
    class Scripted:
        def __init__(self) -> None:
            self.rounds = [["a", "b"], ["b"], ["a"]]
            self.seen: list[dict[str, int]] = []

        def next_round(self, tallies: Mapping[str, Tally]) -> list[str]:
            self.seen.append({label: tally.measured for label, tally in tallies.items()})
            return self.rounds.pop(0) if self.rounds else []

        def take_notices(self) -> list[str]:
            return ["round asked"] if self.seen else []

    plans = [
        plan_for(tmp_path, "extends: optimized\n", runs=10, warmup=1, name="a"),
        plan_for(tmp_path, "extends: old\n", runs=10, warmup=1, name="b"),
    ]
    listener, sampling = RecordingListener(), Scripted()
    machinery = Machinery(engine=FakeEngines(), provider=lambda _browser, _driver: FakeProvider())
    outcomes = asyncio.run(run_interleaved(plans, listener, machinery, sampling))
    starts = [(e[1], e[2], e[3]) for e in listener.events if e[0] == "start"]
    assert starts == [
        ("a", 1, True),
        ("b", 1, True),
        ("a", 2, False),
        ("b", 2, False),
        ("b", 3, False),
        ("a", 4, False),
    ]
    # Each answer saw every session of the round before it; warmups are not counted.
    assert sampling.seen == [{"a": 0, "b": 0}, {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2, "b": 2}]
    assert [o.summary.measured for o in outcomes] == [2, 2]
    # What the sampling has to say reaches the listener before the round it came with.
    warned = [e[1] for e in listener.events if e[0] == "warning"]
    assert warned.count("round asked") == 3


def test_differences_pair_the_rounds_both_profiles_succeeded_in() -> None:
    sample = Tally(4, {1: 110.0, 2: 130.0, 4: 90.0})
    reference = Tally(4, {1: 100.0, 3: 100.0, 4: 100.0})
    assert sample.differences(reference) == [10.0, -10.0]


def test_fixed_runs_asks_for_every_profile_n_times() -> None:
    fixed = FixedRuns(2)
    tallies = {"a": Tally(0, {}), "b": Tally(0, {})}
    assert [fixed.next_round(tallies) for _ in range(3)] == [["a", "b"], ["a", "b"], []]
