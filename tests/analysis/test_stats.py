import numpy as np
import pytest
from scipy import stats as scipy_stats

from qrbench.analysis import stats
from qrbench.analysis.stats import (
    RankTest,
    Significance,
    decide,
    difference,
    first_run_slow,
    fisher_p_value,
    holm_adjusted,
    in_family,
    machine_busy,
    mann_whitney,
    median_contrast,
    median_difference,
    outlier_indices,
    ratio_of_medians,
    smallest_p_value,
    summarize,
)


def test_summary_of_known_values() -> None:
    values = [100.0, 200.0, 300.0, 400.0, 1000.0]
    summary = summarize(values)
    assert summary is not None
    assert (summary.n, summary.min, summary.median, summary.max) == (5, 100, 300, 1000)
    assert summary.mean == pytest.approx(400.0)
    assert summary.sd == pytest.approx(np.std(values, ddof=1))
    assert summary.p95 == pytest.approx(np.percentile(values, 95))
    assert summary.median_ci_low <= summary.median <= summary.median_ci_high


def test_no_values_no_summary() -> None:
    assert summarize([]) is None


def test_single_value_has_zero_spread() -> None:
    summary = summarize([42.0])
    assert summary is not None
    assert (summary.sd, summary.median_ci_low, summary.median_ci_high) == (0.0, 42.0, 42.0)


def test_bootstrap_ci_covers_the_true_median_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    trials = 200
    for _ in range(trials):
        sample = rng.normal(loc=1000.0, scale=50.0, size=30)
        summary = summarize(sample.tolist())
        assert summary is not None
        covered += summary.median_ci_low <= 1000.0 <= summary.median_ci_high
    assert 0.88 <= covered / trials <= 0.99


def _lognormal(rng: np.random.Generator, median: float, n: int) -> list[float]:
    return rng.lognormal(np.log(median), 0.1, n).tolist()


def test_same_distribution_is_not_significant_in_at_least_90_percent_of_trials() -> None:
    rng = np.random.default_rng(11)
    trials = 200
    quiet = sum(
        difference(_lognormal(rng, 1000, 20), _lognormal(rng, 1000, 20)).significance
        is Significance.NOT_SIGNIFICANT
        for _ in range(trials)
    )
    assert quiet / trials >= 0.90


def test_a_doubling_is_significant_and_slower_a_halving_faster() -> None:
    rng = np.random.default_rng(12)
    reference = _lognormal(rng, 1000, 10)
    assert difference(_lognormal(rng, 2000, 10), reference).significance is Significance.SLOWER
    assert difference(_lognormal(rng, 500, 10), reference).significance is Significance.FASTER


def test_ratio_ci_covers_the_true_ratio_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(13)
    trials = 200
    covered = 0
    for _ in range(trials):
        ratio = ratio_of_medians(_lognormal(rng, 2000, 20), _lognormal(rng, 1000, 20))
        assert ratio is not None
        covered += ratio.ci_low <= 2.0 <= ratio.ci_high
    assert 0.88 <= covered / trials <= 0.99


def test_ratio_is_the_ratio_of_medians_and_is_seeded() -> None:
    sample, reference = [300.0, 100.0, 200.0, 250.0], [100.0, 50.0, 150.0]
    ratio = ratio_of_medians(sample, reference)
    assert ratio is not None
    assert ratio.value == pytest.approx(225.0 / 100.0)
    assert ratio == ratio_of_medians(sample, reference)


def test_no_ratio_against_a_reference_that_takes_no_time() -> None:
    assert ratio_of_medians([1.0, 2.0, 3.0], [0.0, 0.0, 0.1]) is None


def test_the_p_value_is_scipys_mann_whitney_u() -> None:
    sample, reference = [5.0, 6.0, 7.0, 8.0, 9.0], [1.0, 2.0, 3.0, 4.0, 6.5]
    test = mann_whitney(sample, reference)
    expected = scipy_stats.mannwhitneyu(sample, reference, alternative="two-sided")
    assert test.p_value == pytest.approx(expected.pvalue)
    assert test.superiority == pytest.approx(23 / 25)


def _test(p_value: float, n_sample: int = 5, n_reference: int = 5) -> RankTest:
    return RankTest(p_value, superiority=1.0, n_sample=n_sample, n_reference=n_reference)


def test_below_five_runs_a_side_nothing_is_significant() -> None:
    assert decide(_test(0.001, 4, 10)) is Significance.TOO_FEW_RUNS
    assert decide(_test(0.001, 10, 4)) is Significance.TOO_FEW_RUNS
    assert decide(_test(0.001)) is Significance.SLOWER
    assert decide(_test(0.05)) is Significance.NOT_SIGNIFICANT
    # A family's adjusted p decides when given.
    assert decide(_test(0.001), p_value=0.05) is Significance.NOT_SIGNIFICANT


def test_identical_samples_are_not_significant() -> None:
    found = difference([1000.0] * 6, [1000.0] * 6)
    assert found.significance is Significance.NOT_SIGNIFICANT
    assert found.test.p_value == 1.0


def test_modified_z_score_flags_the_far_value_only() -> None:
    values = [1000.0, 1010.0, 990.0, 1005.0, 995.0, 3000.0, 1002.0]
    assert outlier_indices(values) == [5]
    assert outlier_indices([1000.0, 1010.0, 990.0, 1005.0, 995.0]) == []


def test_outliers_are_found_when_most_values_are_equal() -> None:
    assert outlier_indices([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0]) == [6]
    assert outlier_indices([7.0] * 6) == []


def test_first_run_much_slower_than_the_rest() -> None:
    assert first_run_slow([1600.0, 1000.0, 1020.0, 980.0])
    assert not first_run_slow([1400.0, 1000.0, 1020.0, 980.0])
    assert not first_run_slow([5000.0, 1000.0])


def test_machine_busy_when_load_exceeds_the_cores() -> None:
    assert machine_busy([2.5, 1.0, 0.5], 2)
    assert not machine_busy([1.5, 3.0, 3.0], 2)
    assert not machine_busy([], 2)


def test_fisher_exact_on_success_rates() -> None:
    assert fisher_p_value(10, 10, 10, 10) == 1.0
    assert fisher_p_value(0, 10, 10, 10) < 0.001


def test_median_difference_is_the_difference_of_medians_and_is_seeded() -> None:
    sample, reference = [300.0, 100.0, 200.0, 250.0], [100.0, 50.0, 150.0]
    found = median_difference(sample, reference)
    assert found.value == pytest.approx(225.0 - 100.0)
    assert found.ci_low <= found.value <= found.ci_high
    assert found == median_difference(sample, reference)


def test_median_difference_ci_covers_the_true_difference_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(14)
    trials = 200
    covered = 0
    for _ in range(trials):
        found = median_difference(
            rng.normal(1400.0, 60.0, 20).tolist(), rng.normal(1000.0, 60.0, 20).tolist()
        )
        covered += found.ci_low <= 400.0 <= found.ci_high
    assert 0.88 <= covered / trials <= 0.99


def test_median_difference_is_defined_where_a_ratio_is_not() -> None:
    found = median_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert ratio_of_medians([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]) is None
    assert found.value == pytest.approx(2.0)


def test_a_contrast_is_the_weighted_sum_of_medians() -> None:
    rng = np.random.default_rng(15)
    a, b, c = (rng.normal(mean, 30.0, 12).tolist() for mean in (3000.0, 2000.0, 500.0))
    found = median_contrast([a, b, c], [1.0, -2.0, 1.0])
    expected = np.median(a) - 2 * np.median(b) + np.median(c)
    assert found.value == pytest.approx(expected)
    assert found.ci_low < expected < found.ci_high
    # A sample counted twice is resampled once: its spread adds up, not in quadrature.
    narrower = median_contrast([a, b], [1.0, -1.0])
    wider = median_contrast([a, b], [2.0, -2.0])
    assert wider.ci_high - wider.ci_low == pytest.approx(2 * (narrower.ci_high - narrower.ci_low))


def test_a_contrast_needs_a_weight_and_a_value_per_sample() -> None:
    with pytest.raises(ValueError, match="one weight per sample"):
        median_contrast([[1.0], [2.0]], [1.0])
    with pytest.raises(ValueError, match="at least one value"):
        median_contrast([[1.0], []], [1.0, -1.0])


def test_a_large_samples_median_ci_matches_resampling_without_its_memory() -> None:
    # Above RESAMPLED_LIMIT the bootstrap draws medians' ranks from their exact distribution;
    # its interval must be the one resampling gives (here from 400 resamples, by hand).
    rng = np.random.default_rng(7)
    sample = rng.lognormal(np.log(2000), 0.1, stats.RESAMPLED_LIMIT * 2 + 1)
    resampled = np.median(rng.choice(sample, size=(400, len(sample))), axis=1)
    expected_low, expected_high = np.percentile(resampled, [2.5, 97.5])
    width = expected_high - expected_low

    low, high = stats.median_ci(sample)

    assert abs(low - expected_low) < width * 0.25
    assert abs(high - expected_high) < width * 0.25
    assert low < float(np.median(sample)) < high


@pytest.mark.parametrize("n", [stats.RESAMPLED_LIMIT + 1, 20_000, 100_000])
def test_drawing_ranks_near_the_middle_only_draws_what_the_whole_distribution_draws(
    n: int,
) -> None:
    sample = np.random.default_rng(3).lognormal(np.log(2000), 0.1, n)
    ordered = np.sort(sample)
    every_rank = stats.scipy_stats().binom.sf(n // 2, n, np.arange(1, n + 1) / n)
    draws = np.random.default_rng(11).random(stats.BOOTSTRAP_RESAMPLES)
    expected = ordered[np.minimum(np.searchsorted(every_rank, draws), n - 1)]

    drawn = stats._drawn_medians(sample, np.random.default_rng(11))

    assert np.array_equal(drawn, expected)


def test_holm_multiplies_the_ith_smallest_p_by_m_minus_i_and_keeps_the_order() -> None:
    # Sorted: 0.005 x 4, 0.01 x 3, 0.03 x 2, 0.04 x 1 (raised to 0.06: never below an earlier).
    assert holm_adjusted([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjusted([0.5, 0.9]) == [1.0, 1.0]
    assert holm_adjusted([0.02]) == [0.02]
    assert holm_adjusted([]) == []


def test_a_family_is_judged_on_adjusted_p_and_too_few_runs_take_no_share() -> None:
    def found(p_value: float, n: int) -> stats.Difference:
        test = RankTest(p_value, superiority=0.9, n_sample=n, n_reference=n)
        return stats.Difference(None, test, p_value, decide(test))

    # Alone each of the first two would be significant; in a family of two only the first.
    family = in_family([found(0.02, 10), found(0.04, 10), found(0.001, 3)])
    assert [f.adjusted_p_value for f in family] == pytest.approx([0.04, 0.04, 0.001])
    assert [f.significance for f in family] == [
        Significance.SLOWER,
        Significance.SLOWER,
        Significance.TOO_FEW_RUNS,
    ]
    three = in_family([found(0.02, 10), found(0.04, 10), found(0.03, 10)])
    assert [f.significance for f in three] == [Significance.NOT_SIGNIFICANT] * 3
    # The raw p is kept beside the adjusted one.
    assert [f.test.p_value for f in three] == [0.02, 0.04, 0.03]


def test_the_smallest_p_value_is_mann_whitneys_at_complete_separation() -> None:
    for n_sample, n_reference in ((5, 5), (6, 6), (5, 8)):
        separated = mann_whitney(
            [float(i) for i in range(n_sample)], [100.0 + i for i in range(n_reference)]
        )
        assert smallest_p_value(n_sample, n_reference) == pytest.approx(separated.p_value)
    # 5 a side: 2/252, too large for a family of 11 at 0.05; 6 a side is enough.
    assert smallest_p_value(5, 5) * 11 > 0.05 > smallest_p_value(6, 6) * 11


def test_a_percentile_ci_from_order_statistics_covers_the_true_percentile() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    trials = 400
    for _ in range(trials):
        # Uniform(0, 1): its 95th percentile is 0.95.
        low, high = stats.quantile_ci(rng.random(100), 95)
        assert low is not None and high is not None
        covered += low <= 0.95 <= high
    # The order-statistic interval holds at least its level; a bootstrap one would not.
    assert covered / trials >= 0.93


def test_a_percentile_bound_the_sample_cannot_give_is_unknown() -> None:
    values = [float(v) for v in range(1, 21)]
    low, high = stats.quantile_ci(values, 95)
    # With 20 values P(all 20 below the 95th percentile) = 0.95**20 = 36 %: no upper bound.
    assert high is None
    # The largest rank k with P(Binomial(20, 0.95) < k) <= 2.5 %.
    below = scipy_stats.binom.cdf(np.arange(20), 20, 0.95)
    assert low == values[int(np.flatnonzero(below <= 0.025)[-1])]
    assert stats.quantile_ci([], 95) == (None, None)
    # The median of 10: the textbook 95 % interval is the 2nd to the 9th value.
    assert stats.quantile_ci(values[:10], 50) == (2.0, 9.0)
