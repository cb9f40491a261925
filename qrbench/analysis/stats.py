"""Summaries of timing samples: the numbers every table and comparison is built from."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from types import ModuleType

import numpy as np


def scipy_stats() -> ModuleType:
    """scipy.stats, imported at the first test that needs it: it takes half a second, which
    `qrbench --help` and a run that never compares should not pay."""
    from scipy import stats

    return stats


BOOTSTRAP_RESAMPLES = 2000
# A fixed seed makes the same samples give the same interval in every report.
BOOTSTRAP_SEED = 20251121
# Above this many values a bootstrap draws its medians' ranks instead of resampling, which
# takes BOOTSTRAP_RESAMPLES x n memory and time: 1.6 GB for 100k sessions, and at 10k a
# side it made compare as slow as at 100k. Past 1,000 values the two agree (tested).
RESAMPLED_LIMIT = 1_000
MEDIAN_RANK_SDS = 12
NOISY_CV = 0.10
# Below this many runs per side no difference is called significant: with 4 and 4 the
# smallest possible p is 0.029, so a "significant" call would rest on one lucky ordering.
FEW_RUNS = 5
SIGNIFICANCE_LEVEL = 0.05
# Iglewicz and Hoaglin's cut-off for the modified z-score.
OUTLIER_Z = 3.5
FIRST_RUN_SLOW_FACTOR = 1.5
# More runnable tasks than cores means the benchmark queued behind something else.
BUSY_LOAD_PER_CORE = 1.0


@dataclass(frozen=True)
class MetricSummary:
    n: int
    mean: float
    sd: float
    min: float
    median: float
    p95: float
    max: float
    median_ci_low: float
    median_ci_high: float

    @property
    def cv(self) -> float:
        return self.sd / self.mean if self.mean else 0.0


def summarize(values: Sequence[float]) -> MetricSummary | None:
    if not values:
        return None
    sample = np.asarray(values, dtype=float)
    ci_low, ci_high = median_ci(sample)
    return MetricSummary(
        n=len(sample),
        mean=float(sample.mean()),
        sd=float(sample.std(ddof=1)) if len(sample) > 1 else 0.0,
        min=float(sample.min()),
        median=float(np.median(sample)),
        p95=float(np.percentile(sample, 95)),
        max=float(sample.max()),
        median_ci_low=ci_low,
        median_ci_high=ci_high,
    )


def median_ci(sample: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median."""
    medians = _bootstrap_medians(sample, np.random.default_rng(BOOTSTRAP_SEED))
    return _percentile_interval(medians, confidence)


def quantile_ci(
    values: Sequence[float], percentile: float, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Distribution-free confidence interval of a percentile, from order statistics.

    The k-th smallest of n values lies below the q-th quantile with the probability that a
    Binomial(n, q) count reaches k, so the ranks come from that distribution: no resampling,
    and no interval narrower than the sample supports. A bound is None when n is too small
    to have one (the upper bound of p95 needs 59 values at 90 %, more at 95 %): unknown,
    never the sample's max passed off as a bound.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    if not n:
        return None, None
    tail = (1 - confidence) / 2
    # below[k] = P(fewer than k+1 values fall below the quantile), k = 0..n-1.
    below = scipy_stats().binom.cdf(np.arange(n), n, percentile / 100)
    lower_ranks = np.flatnonzero(below <= tail)
    upper_ranks = np.flatnonzero(below >= 1 - tail)
    low = float(ordered[lower_ranks[-1]]) if len(lower_ranks) else None
    high = float(ordered[upper_ranks[0]]) if len(upper_ranks) else None
    return low, high


def _bootstrap_medians(sample: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(sample) > RESAMPLED_LIMIT:
        return _drawn_medians(sample, rng)
    resamples = rng.choice(sample, size=(BOOTSTRAP_RESAMPLES, len(sample)), replace=True)
    medians: np.ndarray = np.median(resamples, axis=1)
    return medians


def _drawn_medians(sample: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap medians drawn from their exact distribution instead of by resampling.

    A resample's median is the k-th smallest value of the sample with probability known in
    closed form (Efron 1979): it is at most the k-th when at least half the resample falls
    at or below it, a Binomial(n, k/n) count. Drawing the rank from that distribution costs
    O(n) memory and time where resampling costs BOOTSTRAP_RESAMPLES x n. It takes the upper
    middle value where np.median averages the two middle ones of an even resample: above
    RESAMPLED_LIMIT sessions adjacent values near the median are a fraction of a ms apart.
    """
    ordered = np.sort(sample)
    n = len(ordered)
    # Only ranks near the middle can be drawn: MEDIAN_RANK_SDS sds of the count from n/2,
    # the probability is below 1e-32, 0 or 1 to a float. At 100k values that is 4k ranks
    # of the distribution to evaluate, not 100k (40 ms for each median).
    reach = math.ceil(MEDIAN_RANK_SDS * math.sqrt(n) / 2)
    first, last = max(n // 2 - reach, 0), min(n // 2 + reach, n)
    at_most = scipy_stats().binom.sf(n // 2, n, np.arange(first + 1, last + 1) / n)
    ranks = first + np.searchsorted(at_most, rng.random(BOOTSTRAP_RESAMPLES))
    drawn: np.ndarray = ordered[np.minimum(ranks, n - 1)]
    return drawn


def _percentile_interval(estimates: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def too_few_runs(n: int) -> bool:
    return n < FEW_RUNS


def is_noisy(summary: MetricSummary) -> bool:
    return summary.n > 1 and summary.cv > NOISY_CV


class Significance(StrEnum):
    """The verdict on a sample against a reference sample of the same metric."""

    FASTER = "faster"
    SLOWER = "slower"
    NOT_SIGNIFICANT = "not significant"
    TOO_FEW_RUNS = "too few runs"


@dataclass(frozen=True)
class RatioOfMedians:
    """median(sample) / median(reference), with a percentile-bootstrap confidence interval."""

    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class RankTest:
    """Two-sided Mann-Whitney U test of a sample against a reference."""

    p_value: float
    # P(sample value > reference value), ties counting half: the direction the test itself
    # saw, which stays defined when the medians are equal.
    superiority: float
    n_sample: int
    n_reference: int


@dataclass(frozen=True)
class Difference:
    """How a sample differs from a reference, and whether the difference is real."""

    ratio: RatioOfMedians | None
    test: RankTest
    # The p value the verdict was taken on: Holm-adjusted across the family of tests it was
    # judged with (`in_family`), or test.p_value when it was judged alone.
    adjusted_p_value: float
    significance: Significance


def ratio_of_medians(
    sample: Sequence[float], reference: Sequence[float], confidence: float = 0.95
) -> RatioOfMedians | None:
    """None when the reference median can be 0 (a stage that takes no time): no ratio exists.

    Both samples are resampled independently, as they were measured independently.
    """
    sample_values = np.asarray(sample, dtype=float)
    reference_values = np.asarray(reference, dtype=float)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    sample_medians = _bootstrap_medians(sample_values, rng)
    reference_medians = _bootstrap_medians(reference_values, rng)
    if np.any(reference_medians <= 0):
        return None
    low, high = _percentile_interval(sample_medians / reference_medians, confidence)
    return RatioOfMedians(
        value=float(np.median(sample_values) / np.median(reference_values)),
        ci_low=low,
        ci_high=high,
    )


@dataclass(frozen=True)
class MedianContrast:
    """sum(weight * median(sample)) over several samples, with a percentile-bootstrap CI."""

    value: float
    ci_low: float
    ci_high: float


def median_contrast(
    samples: Sequence[Sequence[float]], weights: Sequence[float], confidence: float = 0.95
) -> MedianContrast:
    """A weighted sum of medians, e.g. [1, -1] for a median difference.

    Each sample is resampled independently, as it was measured independently; a sample
    that appears in the sum twice must be passed once with the weights added, or its two
    appearances would be resampled as if they were different measurements.
    """
    if len(samples) != len(weights) or not samples:
        raise ValueError("one weight per sample, and at least one sample")
    if any(len(sample) == 0 for sample in samples):
        raise ValueError("every sample needs at least one value")
    arrays = [np.asarray(sample, dtype=float) for sample in samples]
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    resampled = sum(
        weight * _bootstrap_medians(values, rng)
        for values, weight in zip(arrays, weights, strict=True)
    )
    low, high = _percentile_interval(np.asarray(resampled), confidence)
    value = sum(
        weight * float(np.median(values)) for values, weight in zip(arrays, weights, strict=True)
    )
    return MedianContrast(value=float(value), ci_low=low, ci_high=high)


def median_difference(
    sample: Sequence[float], reference: Sequence[float], confidence: float = 0.95
) -> MedianContrast:
    """median(sample) - median(reference), with a bootstrap CI: a difference in ms, where
    `ratio_of_medians` gives a factor (and, unlike it, defined when a median is 0)."""
    return median_contrast([sample, reference], [1.0, -1.0], confidence)


def mann_whitney(sample: Sequence[float], reference: Sequence[float]) -> RankTest:
    result = scipy_stats().mannwhitneyu(sample, reference, alternative="two-sided")
    return RankTest(
        p_value=float(result.pvalue),
        superiority=float(result.statistic) / (len(sample) * len(reference)),
        n_sample=len(sample),
        n_reference=len(reference),
    )


def decide(test: RankTest, *, p_value: float | None = None) -> Significance:
    """The verdict at SIGNIFICANCE_LEVEL, on `p_value` (a family's adjusted p) if given,
    else on the test's own."""
    if not judgeable(test):
        return Significance.TOO_FEW_RUNS
    if (test.p_value if p_value is None else p_value) >= SIGNIFICANCE_LEVEL:
        return Significance.NOT_SIGNIFICANT
    return Significance.SLOWER if test.superiority > 0.5 else Significance.FASTER


def difference(sample: Sequence[float], reference: Sequence[float]) -> Difference:
    """Ratio of medians, rank test and verdict of a timing sample against a reference,
    judged alone (see `in_family` to judge several at once)."""
    test = mann_whitney(sample, reference)
    return Difference(
        ratio=ratio_of_medians(sample, reference),
        test=test,
        adjusted_p_value=test.p_value,
        significance=decide(test),
    )


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p values, in the order given.

    Rejecting every hypothesis whose adjusted p is below alpha keeps the chance of any
    false rejection in the family at most alpha, whatever the tests' dependence (Holm
    1979). The i-th smallest p (from 0) is multiplied by m - i, and the products are made
    non-decreasing in that order, so no test is rejected after one that was not.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running_max = max(running_max, (m - rank) * p_values[index])
        adjusted[index] = min(1.0, running_max)
    return adjusted


def judgeable(test: RankTest) -> bool:
    """Whether the samples are large enough for a verdict (FEW_RUNS a side)."""
    return not (too_few_runs(test.n_sample) or too_few_runs(test.n_reference))


def in_family(differences: Sequence[Difference]) -> list[Difference]:
    """`differences` judged as one family: verdicts on Holm-adjusted p values.

    One with too few runs is never judged, so it takes no share of the family's alpha
    (and keeps its own p as its adjusted one).
    """
    judged = [index for index, found in enumerate(differences) if judgeable(found.test)]
    adjusted = dict(
        zip(judged, holm_adjusted([differences[i].test.p_value for i in judged]), strict=True)
    )
    return [
        replace(
            found,
            adjusted_p_value=(p_value := adjusted.get(index, found.test.p_value)),
            significance=decide(found.test, p_value=p_value),
        )
        for index, found in enumerate(differences)
    ]


def smallest_p_value(n_sample: int, n_reference: int) -> float:
    """The smallest two-sided Mann-Whitney p value samples of these sizes can give (every
    value of one side below every value of the other, no ties): 2 / C(n1 + n2, n1).

    Below FEW_RUNS a side, or in a large family, it can exceed what the family allows:
    then no difference can be called significant, however large."""
    return min(1.0, 2 / math.comb(n_sample + n_reference, n_sample))


def fisher_p_value(
    successes: int, trials: int, reference_successes: int, reference_trials: int
) -> float:
    """Two-sided Fisher exact test of two success rates."""
    table = [
        [successes, trials - successes],
        [reference_successes, reference_trials - reference_successes],
    ]
    return float(scipy_stats().fisher_exact(table, alternative="two-sided").pvalue)


def outlier_indices(values: Sequence[float]) -> list[int]:
    """Positions whose modified z-score (Iglewicz and Hoaglin) exceeds OUTLIER_Z."""
    sample = np.asarray(values, dtype=float)
    if len(sample) < 3:
        return []
    deviations = np.abs(sample - np.median(sample))
    mad = float(np.median(deviations))
    if mad > 0:
        scores = 0.6745 * deviations / mad
    else:
        # Half the runs or more agree to the recorded precision, so the MAD is 0; Iglewicz
        # and Hoaglin's fallback scales by the mean absolute deviation instead.
        mean_deviation = float(np.mean(deviations))
        if mean_deviation == 0:
            return []
        scores = deviations / (1.253314 * mean_deviation)
    return [int(index) for index in np.flatnonzero(scores > OUTLIER_Z)]


def first_run_slow(values_in_run_order: Sequence[float]) -> bool:
    """The first run is much slower than the median of the rest: a cold start leaked in."""
    if len(values_in_run_order) < 3:
        return False
    rest = float(np.median(values_in_run_order[1:]))
    return values_in_run_order[0] > rest * FIRST_RUN_SLOW_FACTOR


def machine_busy(load_average: Sequence[float], cores: int) -> bool:
    """The 1-minute load average exceeds the core count: other work competed for the CPU."""
    return bool(load_average) and cores > 0 and load_average[0] > cores * BUSY_LOAD_PER_CORE
