import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from qrbench.analysis.sequential import (
    GroupSequential,
    Settled,
    ShiftMonitor,
    TargetMonitor,
    TargetSettled,
    pocock_spending,
    quantile_sequence,
    share_sequence,
)


def test_pocock_type_boundaries_match_the_published_ones() -> None:
    # Lan-DeMets Pocock-type spending, alpha 0.05 two-sided (0.025 a side), equally spaced
    # looks: the boundaries rpact and Jennison and Turnbull print.
    two = GroupSequential(0.05)
    assert [round(two.look(t), 3) for t in (0.5, 1.0)] == [2.157, 2.201]
    five = GroupSequential(0.05)
    assert [round(five.look(k / 5), 3) for k in range(1, 6)] == [2.438, 2.427, 2.41, 2.397, 2.386]
    assert five.spent == pytest.approx(0.05, abs=1e-6)


def test_every_look_spends_what_the_function_releases_and_a_final_look_the_rest() -> None:
    design = GroupSequential(0.05)
    for fraction in (0.1, 0.15, 0.3, 0.32, 0.6):
        design.look(fraction)
        assert design.spent == pytest.approx(pocock_spending(0.05, fraction), abs=1e-6)
    design.look(0.7, final=True)
    assert design.spent == pytest.approx(0.05, abs=1e-6)


def test_boundaries_keep_the_type_one_error_of_a_brownian_path_looked_at_often() -> None:
    # Monte Carlo: 20,000 null paths of the score statistic looked at 30 times.
    rng = np.random.default_rng(7)
    fractions = np.arange(1, 31) / 30
    design = GroupSequential(0.05)
    boundaries = np.array([design.look(t) for t in fractions])
    steps = rng.normal(size=(20_000, 30)) * np.sqrt(np.diff(fractions, prepend=0.0))
    z = np.cumsum(steps, axis=1) / np.sqrt(fractions)
    crossed = np.mean(np.any(np.abs(z) >= boundaries, axis=1))
    assert 0.043 < crossed < 0.057
    # Looking 30 times at the fixed design's 1.96 would call far more.
    assert np.mean(np.any(np.abs(z) >= 1.96, axis=1)) > 0.15


def test_information_must_grow_between_looks() -> None:
    design = GroupSequential(0.05)
    design.look(0.4)
    with pytest.raises(ValueError, match="information must grow"):
        design.look(0.4)
    with pytest.raises(ValueError, match="alpha"):
        GroupSequential(1.5)


def test_a_clear_shift_is_settled_with_its_interval_and_direction() -> None:
    rng = np.random.default_rng(1)
    differences = rng.normal(400, 70, 16)
    monitor = ShiftMonitor(0.05, max_runs=40, margin_ms=50)
    look = monitor.look(differences)
    assert look is not None and look.settled is Settled.SLOWER
    assert 0 < look.ci_low < 400 < look.ci_high
    assert look.p_value < look.boundary_p_value
    faster = ShiftMonitor(0.05, 40, 50).look(-differences)
    assert faster is not None and faster.settled is Settled.FASTER


def test_the_same_profile_twice_is_equivalent_only_once_the_interval_fits_the_margin() -> None:
    rng = np.random.default_rng(2)
    differences = rng.normal(1000, 20, 60) - rng.normal(1000, 20, 60)
    monitor = ShiftMonitor(0.05, max_runs=60, margin_ms=15)
    settled = []
    for n in range(15, 61):
        look = monitor.look(differences[:n])
        assert look is not None
        settled.append(look.settled)
        if look.settled is not Settled.OPEN:
            break
    assert settled[0] is Settled.OPEN
    assert settled[-1] is Settled.EQUIVALENT
    assert monitor.last is not None
    assert -15 < monitor.last.ci_low <= monitor.last.shift_ms <= monitor.last.ci_high < 15


def test_no_look_below_fifteen_pairs_or_without_a_new_pair() -> None:
    monitor = ShiftMonitor(0.05, max_runs=30, margin_ms=50)
    assert monitor.look([1.0, -2] * 7) is None
    assert monitor.look([1.0, -2] * 7 + [3.0]) is not None
    # A round with a failed session adds no pair: nothing new to look at.
    assert monitor.look([1.0, -2] * 7 + [3.0]) is None


def test_at_a_single_final_look_the_interval_is_the_paired_t_interval() -> None:
    # One look spending all of alpha is the fixed design: mean +- t(0.975, n - 1) * s / sqrt(n).
    differences = np.array([3.0, -1, 4, 1, 5, 9, 2, 6, -5, 3, -2, 0, 4, -3, 1])
    look = ShiftMonitor(0.05, max_runs=15, margin_ms=1).look(differences, final=True)
    expected = scipy_stats.t.interval(
        0.95, 14, loc=differences.mean(), scale=scipy_stats.sem(differences)
    )
    assert look is not None
    assert (look.ci_low, look.ci_high) == pytest.approx(expected)
    assert look.p_value == pytest.approx(scipy_stats.ttest_1samp(differences, 0).pvalue)
    # The interval reaches below 0 and past the 1 ms margin: not settled either way.
    assert look.ci_low < 0 < 1 < look.ci_high and look.settled is Settled.OPEN


def test_pairs_that_all_differ_alike_are_settled_by_that_difference() -> None:
    look = ShiftMonitor(0.05, max_runs=10, margin_ms=50).look([20.0] * 15)
    assert look is not None and look.settled is Settled.SLOWER
    assert (look.ci_low, look.shift_ms, look.ci_high) == (20.0, 20.0, 20.0)
    same = ShiftMonitor(0.05, max_runs=10, margin_ms=50).look([0.0] * 15)
    assert same is not None and same.settled is Settled.EQUIVALENT


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
