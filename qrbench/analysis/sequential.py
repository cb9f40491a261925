"""Sequential designs: when to stop measuring, at error rates that hold however often we look.

Two questions, two designs (docs/statistics.md says why each):

- Is B slower than A, or the same within a margin? A group-sequential sign-flip
  (randomization) test of the paired t statistic of the differences, with Lan and
  DeMets' alpha spending (Pocock type), looked at after every round, and repeated
  confidence intervals for the shift from its boundaries (Jennison and Turnbull 1989):
  `ShiftMonitor`.
- Does one run meet its target? Anytime-valid confidence sequences for the p95 and the
  success rate from a beta-binomial mixture martingale (Robbins 1970; Howard and Ramdas
  2022): `TargetMonitor`.

Both are data only: the runner asks them after each round whether to go on.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import msgspec
import numpy as np

from qrbench.results import ResultsError, SavedRun

# The fewest pairs a shift is looked at with. The sign-flip test is exact at any n, but n
# pairs have only 2^n sign patterns: at 10, the most extreme is 2 in 1,024, under the
# 0.005 each of explain's ten questions has, so fewer could not settle those anyway.
FIRST_LOOK_PAIRS = 10
# Sign patterns drawn beside the observed one: a look's p is then a Monte Carlo
# randomization p (exact in expectation), and the smallest alpha a look can spend is
# 1 / (SIGN_PATTERNS + 1).
SIGN_PATTERNS = 9_999


def pocock_spending(alpha: float, fraction: float) -> float:
    """The share of alpha spent by information fraction t: alpha * ln(1 + (e - 1) t).

    Lan and DeMets' Pocock-type function spends early, so a large difference stops the run
    soon; O'Brien-Fleming's spends almost nothing before the end, which suits a trial with
    five planned looks but not a benchmark that looks after every round.
    """
    return alpha * math.log(1 + (math.e - 1) * min(max(fraction, 0.0), 1.0))


class SignFlipSequential:
    """A group-sequential randomization test of "the paired differences are symmetric
    about 0", looked at as pairs arrive.

    Under no difference each pair's sign is a fair coin given its size, so the observed
    signs are one draw among the sign patterns. Every pattern (the observed one first,
    then SIGN_PATTERNS random ones, each pair's sign kept across looks) goes through the
    same looks; a look's boundary is the |t| that as many patterns, not stopped by an
    earlier look, cross as the spending function releases since the last look. The
    observed pattern is exchangeable with the others, so its chance of crossing at any
    look is at most what that look spent, and all looks together at most alpha, whatever
    the differences' distribution (symmetric under no difference) and however few pairs.
    """

    def __init__(self, alpha: float, rng: np.random.Generator) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1 (got {alpha})")
        self.alpha = alpha
        self.spent = 0.0
        self.pairs = 0
        self._rng = rng
        # Per pattern, the sum of the signed differences; the sum of squares is the same
        # for every pattern.
        self._sums = np.zeros(SIGN_PATTERNS + 1)
        self._squares = 0.0
        self._running = np.ones(SIGN_PATTERNS + 1, dtype=bool)

    def look(self, new_differences: np.ndarray, release: float) -> "SignFlipLook":
        """Add the pairs since the last look, and spend up to `release` of alpha."""
        signs = self._rng.integers(0, 2, size=(len(self._sums), len(new_differences))) * 2 - 1
        signs[0] = 1
        self._sums += signs @ new_differences
        self._squares += float(new_differences @ new_differences)
        self.pairs += len(new_differences)
        statistics = _abs_t(self._sums, self._squares, self.pairs)
        running = statistics[self._running]
        # The |t| that at most `allowed` running patterns exceed.
        allowed = math.floor(max(release, 0.0) * len(self._sums) + 1e-9)
        if allowed >= len(running):
            boundary = -math.inf
        else:
            boundary = float(np.partition(running, len(running) - allowed - 1)[-allowed - 1])
        crossed = self._running & (statistics > boundary)
        observed = statistics[0]
        p_value = float(np.count_nonzero(running >= observed)) / len(self._sums)
        self.spent += float(np.count_nonzero(crossed)) / len(self._sums)
        self._running &= ~crossed
        # A boundary no pattern can cross bounds nothing.
        return SignFlipLook(
            boundary=boundary if crossed.any() else math.inf,
            p_value=p_value,
            crossed=bool(crossed[0]),
        )


@dataclass(frozen=True)
class SignFlipLook:
    boundary: float  # on |t|
    p_value: float  # the share of running patterns at least as extreme as the observed
    crossed: bool


def _abs_t(sums: np.ndarray, squares: float, pairs: int) -> np.ndarray:
    """|paired t| of each sign pattern, from its signed sum and the shared sum of squares:
    t^2 = S^2 (n - 1) / (n Q - S^2)."""
    if squares == 0:
        # Every difference 0: no pattern differs from another.
        return np.zeros_like(sums)
    spread = pairs * squares - sums**2
    with np.errstate(divide="ignore", invalid="ignore"):
        statistics = np.abs(sums) * np.sqrt((pairs - 1) / spread)
    # Every pair differed by the same amount in the same direction: no spread to hold
    # that amount against.
    statistics[spread <= 1e-12 * pairs * squares] = math.inf
    return statistics


class Settled(StrEnum):
    """Where a sequential question stands after a look."""

    SLOWER = "slower"
    FASTER = "faster"
    EQUIVALENT = "equivalent"
    OPEN = "not settled"


@dataclass(frozen=True)
class ShiftLook:
    """One look at the paired differences sample - reference: the shift, its repeated
    confidence interval, the test."""

    pairs: int
    # The mean paired difference, in ms.
    shift_ms: float
    # The repeated confidence interval: it excludes 0 at any look with probability at most
    # alpha when there is no shift (exactly, by the randomization), and covers a shift
    # other than 0 as the paired t's interval does (approximately).
    ci_low: float
    ci_high: float
    t: float
    # This look's |t| boundary, from the sign patterns still running; inf when none can
    # cross it yet.
    boundary: float
    # The share of sign patterns still running whose |t| is at least the observed one:
    # the look calls a difference when it is at most the alpha this look may spend.
    p_value: float
    boundary_p_value: float
    settled: Settled


class ShiftMonitor:
    """Is the sample slower, faster, or within `margin_ms` of the reference? Asked after
    every round, answered at level `alpha` however many rounds it takes.

    The two sides are paired by round: both sessions of a pair ran back to back with the
    same fault and jitter draws, so what the world did to both cancels in their
    difference. The test is the sign-flip randomization test of the paired t
    (`SignFlipSequential`); the information fraction is the pairs over `max_runs`, so a
    failed session (which leaves its pair out) slows the design down instead of fooling
    it. The repeated interval is the mean plus or minus the look's |t| boundary times its
    standard error: it excludes 0 exactly when the test calls a difference.
    """

    def __init__(
        self, alpha: float, max_runs: int, margin_ms: float, rng: np.random.Generator
    ) -> None:
        self.design = SignFlipSequential(alpha, rng)
        self.max_runs = max_runs
        self.margin_ms = margin_ms
        self.last: ShiftLook | None = None

    def look(self, differences: Sequence[float], *, final: bool = False) -> ShiftLook | None:
        """None when there is nothing new to look at: fewer than FIRST_LOOK_PAIRS pairs,
        or no new pair since the last look. `differences` are in round order, each look's
        extending the last's; `final` spends whatever alpha is left."""
        pairs = len(differences)
        if pairs < FIRST_LOOK_PAIRS or pairs <= self.design.pairs:
            return None
        values = np.asarray(differences, dtype=float)
        alpha = self.design.alpha
        spending = alpha if final else pocock_spending(alpha, pairs / self.max_runs)
        release = spending - self.design.spent
        test = self.design.look(values[self.design.pairs :], release)
        mean = float(values.mean())
        error = float(values.std(ddof=1)) / math.sqrt(pairs)
        # Pairs that all differed alike leave no error: the interval is their difference.
        half_width = test.boundary * error if error > 0 else 0.0
        ci_low, ci_high = mean - half_width, mean + half_width
        found = ShiftLook(
            pairs=pairs,
            shift_ms=mean,
            ci_low=ci_low,
            ci_high=ci_high,
            t=_t_statistic(mean, error),
            boundary=test.boundary,
            p_value=test.p_value,
            boundary_p_value=max(release, 0.0),
            settled=_settled(test.crossed, mean, ci_low, ci_high, self.margin_ms),
        )
        self.last = found
        return found


def _t_statistic(mean: float, error: float) -> float:
    if error > 0:
        return mean / error
    # Every pair differed by the same amount: no spread to hold that amount against.
    return math.copysign(math.inf, mean) if mean else 0.0


def _settled(
    crossed: bool, mean: float, ci_low: float, ci_high: float, margin_ms: float
) -> Settled:
    if crossed:
        return Settled.SLOWER if mean > 0 else Settled.FASTER
    if -margin_ms < ci_low and ci_high < margin_ms:
        return Settled.EQUIVALENT
    return Settled.OPEN


# The beta-binomial mixture's prior weighs alternatives near the value tested: a prior
# this many sessions strong, centred there: of strengths 1 to 200, 1 and 2 bound a p95 from
# above soonest (77 and 80 sessions at alpha 0.025, 219 at 200) and settle 98 % success
# soonest (189, 193; 403), and 2 leaves the p95's interval as narrow as 10 does by 400.
PRIOR_SESSIONS = 2.0


def _log_mixture(
    count: np.ndarray, trials: int, share: float | np.ndarray, centre: float
) -> np.ndarray:
    """log of the beta-binomial mixture martingale for `count` successes in `trials`
    Bernoulli(share) draws: Ville's inequality bounds its ever reaching 1/alpha by alpha."""
    from scipy import special  # as in _root

    a, b = PRIOR_SESSIONS * centre, PRIOR_SESSIONS * (1 - centre)
    mixture = special.betaln(a + count, b + trials - count) - special.betaln(a, b)
    with np.errstate(divide="ignore"):
        null = count * np.log(share) + (trials - count) * np.log1p(-np.asarray(share))
    result: np.ndarray = mixture - null
    return result


def _root(function: Callable[[float], float], low: float, high: float) -> float:
    """Where `function` changes sign between `low` and `high`."""
    from scipy.optimize import brentq  # imported when a run first looks, as stats does SciPy

    return float(brentq(function, low, high, xtol=1e-6))


def quantile_sequence(
    values: Sequence[float], percentile: float, alpha: float
) -> tuple[float | None, float | None]:
    """An anytime-valid confidence interval of a percentile (Howard and Ramdas 2022).

    For the true quantile q, the count of values at or below it is a Binomial(t, p) path,
    so the counts the mixture does not reject are those q may have: q lies between the
    order statistics that bracket them. None where no value bounds it yet.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    trials = len(ordered)
    if not trials:
        return None, None
    share = percentile / 100
    counts = np.arange(trials + 1)
    accepted = np.flatnonzero(_log_mixture(counts, trials, share, share) < math.log(1 / alpha))
    if not len(accepted):
        return None, None
    lowest, highest = int(accepted[0]), int(accepted[-1])
    low = float(ordered[lowest - 1]) if lowest >= 1 else None
    high = float(ordered[highest]) if highest < trials else None
    return low, high


def share_sequence(
    successes: int, trials: int, threshold: float, alpha: float
) -> tuple[float, float]:
    """An anytime-valid confidence interval of a success rate, centred for `threshold`."""
    if not trials:
        return 0.0, 1.0
    limit = math.log(1 / alpha)

    def excess(share: float) -> float:
        return float(_log_mixture(np.asarray(successes), trials, share, threshold)) - limit

    observed = min(max(successes / trials, 1e-12), 1 - 1e-12)
    low = 0.0 if excess(1e-12) < 0 else _root(excess, 1e-12, observed)
    high = 1.0 if excess(1 - 1e-12) < 0 else _root(excess, observed, 1 - 1e-12)
    return low, high


def median_interval(values: Sequence[float], alpha: float) -> tuple[float | None, float | None]:
    """The distribution-free interval of a fixed sample's median: order statistics k and
    n - k + 1, k the largest with P(Binomial(n, 1/2) < k) <= alpha / 2. None where the
    sample is too small to bound it."""
    from scipy import stats  # as in _root

    ordered = np.sort(np.asarray(values, dtype=float))
    k = int(stats.binom.ppf(alpha / 2, len(ordered), 0.5)) if len(ordered) else 0
    if k < 1:
        return None, None
    return float(ordered[k - 1]), float(ordered[len(ordered) - k])


class RegressionSettled(StrEnum):
    REGRESSED = "regressed"
    WITHIN = "within the limit"
    OPEN = "not settled"


@dataclass(frozen=True)
class RegressionLook:
    """The run's median time-to-QR against the baseline's plus the allowed regression."""

    median_ms: float | None
    # The run's median's anytime-valid interval.
    median_low: float | None
    median_high: float | None
    baseline_median_ms: float | None
    max_regression_percent: float
    # The baseline's median's interval, times 1 + the allowed regression.
    limit_low: float | None
    limit_high: float | None
    settled: RegressionSettled


class RegressionMonitor:
    """Is the run's median time-to-QR more than `max_regression_percent` over a baseline's?

    The baseline is a fixed sample: its median gets the order-statistic interval at
    alpha / 2. The run grows: its median gets the confidence sequence at alpha / 2, valid
    after any session. Regressed when the run's lower bound is over the baseline limit's
    upper one; within the limit when the run's upper bound is under the limit's lower one.
    """

    def __init__(
        self, alpha: float, baseline_ms: Sequence[float], max_regression_percent: float
    ) -> None:
        self.alpha = alpha
        self.max_regression_percent = max_regression_percent
        factor = 1 + max_regression_percent / 100
        low, high = median_interval(baseline_ms, alpha / 2)
        self.baseline_median_ms = float(np.median(baseline_ms)) if len(baseline_ms) else None
        self.limit_low = None if low is None else low * factor
        self.limit_high = None if high is None else high * factor
        self.last: RegressionLook | None = None

    def look(self, qr_times: Sequence[float]) -> RegressionLook:
        low, high = quantile_sequence(qr_times, 50, self.alpha / 2)
        if low is not None and self.limit_high is not None and low > self.limit_high:
            settled = RegressionSettled.REGRESSED
        elif high is not None and self.limit_low is not None and high < self.limit_low:
            settled = RegressionSettled.WITHIN
        else:
            settled = RegressionSettled.OPEN
        self.last = RegressionLook(
            median_ms=float(np.median(qr_times)) if len(qr_times) else None,
            median_low=low,
            median_high=high,
            baseline_median_ms=self.baseline_median_ms,
            max_regression_percent=self.max_regression_percent,
            limit_low=self.limit_low,
            limit_high=self.limit_high,
            settled=settled,
        )
        return self.last


class StopReason(StrEnum):
    """Why a `--runs auto` run stopped; None where it did not (interrupted)."""

    SETTLED = "settled"
    MAX_RUNS = "max runs reached"
    BUDGET = "budget spent"


@dataclass(frozen=True)
class Question:
    """One question of a `--runs auto` comparison, and where its last look left it (None:
    no look, too few rounds in which both succeeded)."""

    sample: str
    reference: str
    look: ShiftLook | None


@dataclass(frozen=True)
class AutoStop:
    """How a `--runs auto` comparison ended: what the exports and the console report."""

    rounds: int
    stopped: StopReason | None
    max_runs: int
    margin_ms: float
    questions: list[Question]


class TargetSettled(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PRECISE = "precise"
    OPEN = "not settled"


@dataclass(frozen=True)
class TargetLook:
    measured: int
    succeeded: int
    percentile: float
    # The percentile of the successful sessions' time-to-QR, and its anytime-valid interval.
    value_ms: float | None
    value_low: float | None
    value_high: float | None
    success_low: float
    success_high: float
    settled: TargetSettled


@dataclass(frozen=True)
class TargetStop:
    """How a `--runs auto` run against its target ended: what its summary records."""

    stopped: StopReason | None
    max_runs: int
    target_ms: float
    min_success: float
    precision: float
    look: TargetLook | None
    # With a baseline (`gate --baseline --runs auto`): the median's regression, last look.
    regression: RegressionLook | None = None


def recorded_target_stop(run: SavedRun) -> TargetStop | None:
    """How the run in a results file stopped, as its summary records it (`--runs auto`);
    None for a run of fixed size or one that never ended. ResultsError if malformed."""
    recorded = (run.summary or {}).get("auto_stop")
    if recorded is None:
        return None
    try:
        return msgspec.convert(recorded, TargetStop)
    except msgspec.ValidationError as exc:
        raise ResultsError(f"{run.path}: summary.auto_stop: {exc}") from None


class TargetMonitor:
    """Does a run meet its target (time-to-QR at a percentile) and success threshold? Or
    is that percentile known within `precision` of the target? Each interval at alpha / 2:
    both hold at once, after any session, with probability 1 - alpha."""

    def __init__(
        self,
        alpha: float,
        target_ms: float,
        min_success: float,
        precision: float,
        percentile: float = 95.0,
    ) -> None:
        self.alpha = alpha
        self.target_ms = target_ms
        self.min_success = min_success
        self.precision = precision
        self.percentile = percentile
        self.last: TargetLook | None = None

    def look(self, qr_times: Sequence[float], measured: int) -> TargetLook:
        succeeded = len(qr_times)
        low, high = quantile_sequence(qr_times, self.percentile, self.alpha / 2)
        success_low, success_high = share_sequence(
            succeeded, measured, self.min_success, self.alpha / 2
        )
        found = TargetLook(
            measured=measured,
            succeeded=succeeded,
            percentile=self.percentile,
            value_ms=float(np.percentile(qr_times, self.percentile)) if succeeded else None,
            value_low=low,
            value_high=high,
            success_low=success_low,
            success_high=success_high,
            settled=self._settled(low, high, success_low, success_high),
        )
        self.last = found
        return found

    def _settled(
        self, low: float | None, high: float | None, success_low: float, success_high: float
    ) -> TargetSettled:
        if (low is not None and low > self.target_ms) or success_high < self.min_success:
            return TargetSettled.FAIL
        if high is not None and high <= self.target_ms and success_low >= self.min_success:
            return TargetSettled.PASS
        if low is not None and high is not None and high - low <= self.precision * self.target_ms:
            return TargetSettled.PRECISE
        return TargetSettled.OPEN
