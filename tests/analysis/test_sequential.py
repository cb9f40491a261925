import itertools
import math

import numpy as np
import pytest

from qrbench.analysis.sequential import (
    FIRST_LOOK_PAIRS,
    SIGN_PATTERNS,
    RegressionMonitor,
    RegressionSettled,
    Settled,
    ShiftMonitor,
    SignFlipSequential,
    TargetMonitor,
    TargetSettled,
    median_interval,
    pocock_spending,
    quantile_sequence,
    share_sequence,
)


def _monitor(alpha: float = 0.05, max_runs: int = 40, margin_ms: float = 50) -> ShiftMonitor:
    return ShiftMonitor(alpha, max_runs, margin_ms, np.random.default_rng(0))


def test_every_look_spends_at_most_what_the_function_releases_and_a_final_look_the_rest() -> None:
    rng = np.random.default_rng(1)
    differences = rng.normal(0, 100, 40)
    design = SignFlipSequential(0.05, np.random.default_rng(2))
    for pairs in (15, 20, 26, 33):
        release = pocock_spending(0.05, pairs / 60) - design.spent
        design.look(differences[design.pairs : pairs], release)
        # Ties among patterns can only make a look spend less; with 15 pairs there are few.
        assert pocock_spending(0.05, pairs / 60) - 3 / SIGN_PATTERNS <= design.spent
        assert design.spent <= pocock_spending(0.05, pairs / 60) + 1e-12
    design.look(differences[33:], 0.05 - design.spent)
    assert 0.05 - 3 / SIGN_PATTERNS <= design.spent <= 0.05 + 1e-12


def test_looks_keep_the_error_rate_whatever_the_symmetric_distribution() -> None:
    # Heavy-tailed differences (Student's t on 2 degrees of freedom), looked at every pair
    # from the first look to 24: the randomization keeps the rate the normal-theory t
    # boundaries only approach. alpha 0.2 so that 600 runs tell the rate apart.
    rng = np.random.default_rng(3)
    called = 0
    for _ in range(600):
        differences = rng.standard_t(2, 24)
        monitor = ShiftMonitor(0.2, 24, 0.0, rng)
        for pairs in range(FIRST_LOOK_PAIRS, 25):
            look = monitor.look(differences[:pairs], final=pairs == 24)
            assert look is not None
            if look.settled is not Settled.OPEN:
                called += 1
                break
    assert 0.14 < called / 600 <= 0.23


def test_a_final_look_is_the_randomization_test_of_the_paired_t() -> None:
    # One look spending all of alpha: its p is the share of the 2^15 sign patterns whose
    # |t| is at least the observed one (counted exactly here), up to Monte Carlo error.
    differences = np.array([3.0, -1, 4, 1, 5, 9, 2, 6, -5, 3, -2, 0.5, 4, -3, 1])
    look = _monitor(max_runs=15, margin_ms=1).look(differences, final=True)
    patterns = np.array(list(itertools.product((-1.0, 1.0), repeat=15))) * differences
    t = np.abs(patterns.mean(axis=1)) / (patterns.std(axis=1, ddof=1) / math.sqrt(15))
    exact_p = np.mean(t >= abs(differences.mean()) / (differences.std(ddof=1) / math.sqrt(15)))
    assert look is not None
    assert look.p_value == pytest.approx(exact_p, abs=0.01)
    assert look.boundary == pytest.approx(np.quantile(t, 0.95), rel=0.05)
    assert look.ci_low < 0 < 1 < look.ci_high and look.settled is Settled.OPEN


def test_a_clear_shift_is_settled_with_its_interval_and_direction() -> None:
    rng = np.random.default_rng(1)
    differences = rng.normal(400, 70, 16)
    look = _monitor().look(differences)
    assert look is not None and look.settled is Settled.SLOWER
    assert 0 < look.ci_low < 400 < look.ci_high
    assert look.p_value <= look.boundary_p_value
    faster = _monitor().look(-differences)
    assert faster is not None and faster.settled is Settled.FASTER


def test_the_same_profile_twice_is_equivalent_only_once_the_interval_fits_the_margin() -> None:
    rng = np.random.default_rng(2)
    differences = rng.normal(1000, 20, 60) - rng.normal(1000, 20, 60)
    monitor = _monitor(max_runs=60, margin_ms=15)
    settled = []
    for n in range(FIRST_LOOK_PAIRS, 61):
        look = monitor.look(differences[:n])
        assert look is not None
        settled.append(look.settled)
        if look.settled is not Settled.OPEN:
            break
    assert settled[0] is Settled.OPEN
    assert settled[-1] is Settled.EQUIVALENT
    assert monitor.last is not None
    assert -15 < monitor.last.ci_low <= monitor.last.shift_ms <= monitor.last.ci_high < 15


def test_no_look_below_the_first_look_or_without_a_new_pair() -> None:
    monitor = _monitor(max_runs=30)
    few = [1.0, -2] * (FIRST_LOOK_PAIRS // 2)
    assert monitor.look(few[:-1]) is None
    assert monitor.look(few) is not None
    # A round with a failed session adds no pair: nothing new to look at.
    assert monitor.look(few) is None


def test_a_look_that_no_pattern_can_cross_bounds_nothing() -> None:
    # At the first look of a long design the release is under one pattern in 10,000.
    look = _monitor(alpha=0.001, max_runs=10_000).look(np.arange(1.0, 11))
    assert look is not None and look.boundary == math.inf
    assert (look.ci_low, look.ci_high) == (-math.inf, math.inf)
    assert look.settled is Settled.OPEN


def test_the_same_seed_gives_the_same_looks() -> None:
    differences = np.random.default_rng(5).normal(30, 60, 20)
    assert _monitor().look(differences) == _monitor().look(differences)


def test_pairs_that_all_differ_alike_are_settled_by_that_difference() -> None:
    look = _monitor(max_runs=10).look([20.0] * 15)
    assert look is not None and look.settled is Settled.SLOWER
    assert (look.ci_low, look.shift_ms, look.ci_high) == (20.0, 20.0, 20.0)
    same = _monitor(max_runs=10).look([0.0] * 15)
    assert same is not None and same.settled is Settled.EQUIVALENT


def test_alpha_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="alpha"):
        SignFlipSequential(1.5, np.random.default_rng(0))


def test_quantile_sequence_brackets_the_p95_and_needs_enough_values_for_an_upper_bound() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(7, 0.2, 400)
    true_p95 = math.exp(7 + 0.2 * 1.6449)
    low, high = quantile_sequence(values, 95, 0.05)
    assert low is not None and high is not None and low < true_p95 < high
    # No p95 upper bound from 40 values at any confidence worth the name.
    assert quantile_sequence(values[:40], 95, 0.05)[1] is None
    assert quantile_sequence([], 95, 0.05) == (None, None)


def test_share_sequence_covers_the_rate_and_narrows() -> None:
    low, high = share_sequence(45, 50, 0.98, 0.05)
    assert low < 0.9 < high
    wide = share_sequence(9, 10, 0.98, 0.05)
    assert wide[1] - wide[0] > high - low
    assert share_sequence(0, 0, 0.98, 0.05) == (0.0, 1.0)


def test_target_verdicts_settle_fail_fast_and_pass_only_with_enough_sessions() -> None:
    monitor = TargetMonitor(0.05, target_ms=1000, min_success=0.98, precision=0.10)
    assert monitor.look([2000.0] * 6, 6).settled is TargetSettled.FAIL
    assert monitor.look([500.0] * 3, 10).settled is TargetSettled.FAIL  # 3 of 10 succeeded
    assert monitor.look([500.0] * 20, 20).settled is TargetSettled.OPEN
    fast = list(np.linspace(400, 500, 300))
    assert monitor.look(fast, 300).settled is TargetSettled.PASS


def test_a_p95_known_within_the_precision_ends_a_run_whose_success_is_not_settled() -> None:
    monitor = TargetMonitor(0.05, target_ms=1000, min_success=0.98, precision=0.10)
    near = list(np.linspace(900, 960, 120))
    look = monitor.look(near, 120)
    assert look.value_high is not None and look.value_low is not None
    assert look.value_high - look.value_low <= 100
    assert look.settled is TargetSettled.PRECISE


def test_median_interval_is_the_order_statistics_the_binomial_allows() -> None:
    values = np.arange(1.0, 21)  # 20 values: P(Binomial(20, 1/2) <= 5) = 0.021 < 0.025
    assert median_interval(values, 0.05) == (6.0, 15.0)
    # Five values cannot bound a median at 99 %: (1/2)^5 * 2 = 0.0625 > 0.01.
    assert median_interval(values[:5], 0.01) == (None, None)
    assert median_interval([], 0.05) == (None, None)


def test_a_run_far_over_its_baseline_is_regressed_and_one_under_it_within_the_limit() -> None:
    rng = np.random.default_rng(8)
    baseline = rng.normal(1000, 30, 20)
    monitor = RegressionMonitor(0.05, baseline, max_regression_percent=10)
    assert monitor.limit_low is not None and monitor.limit_high is not None
    assert 1000 * 1.1 - 40 < monitor.limit_low < 1100 < monitor.limit_high < 1000 * 1.1 + 40
    slow = monitor.look(rng.normal(1500, 30, 30))
    assert slow.settled is RegressionSettled.REGRESSED
    assert slow.median_low is not None and slow.median_low > monitor.limit_high
    same = RegressionMonitor(0.05, baseline, 10).look(rng.normal(1000, 30, 30))
    assert same.settled is RegressionSettled.WITHIN
    # One session proves neither.
    assert monitor.look([1500.0]).settled is RegressionSettled.OPEN
    # A regression of 5 % against a 10 % limit, measured closely, is within it; against a
    # 2 % limit with its noise, not settled after 30 sessions.
    five = rng.normal(1050, 30, 30)
    assert RegressionMonitor(0.05, baseline, 10).look(five).settled is RegressionSettled.WITHIN
    assert RegressionMonitor(0.05, baseline, 2).look(five).settled is RegressionSettled.OPEN


def test_a_run_at_the_limit_is_rarely_settled_either_way_however_often_it_is_looked_at() -> None:
    # The true median exactly at the baseline's + 10 %: "within the limit" and "regressed"
    # are both wrong. Looked at after every session up to 60, at alpha 0.2 so that 300
    # runs would show a rate near it; each wrong answer must stay under alpha / 2.
    rng = np.random.default_rng(3)
    wrong = {RegressionSettled.WITHIN: 0, RegressionSettled.REGRESSED: 0}
    for _ in range(300):
        monitor = RegressionMonitor(0.2, rng.normal(1000, 50, 20), max_regression_percent=10)
        run = rng.normal(1100, 50, 60)
        for sessions in range(1, 61):
            settled = monitor.look(run[:sessions]).settled
            if settled is not RegressionSettled.OPEN:
                wrong[settled] += 1
                break
    assert all(count / 300 <= 0.1 for count in wrong.values())
