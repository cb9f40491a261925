"""Sequential designs: when to stop measuring, at error rates that hold however often we look.

Two questions, two designs (docs/statistics.md says why each):

- Is B slower than A, or the same within a margin? A group-sequential design on the
  paired t statistic of the differences, with Lan and DeMets' alpha spending (Pocock
  type), looked at after every round, and its repeated confidence intervals for the
  shift (Jennison and Turnbull 1989): `ShiftMonitor`.
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

from qrbench.analysis.stats import scipy_stats
from qrbench.results import ResultsError, SavedRun

# Points over the continuation region in the boundary recursion: the crossing
# probabilities it yields agree with published boundaries to the third decimal.
_GRID_POINTS = 801
# A |Z| this large has a tail below 1e-15: the grid need not reach further.
_GRID_REACH = 8.0
_LARGEST_BOUNDARY = 40.0
# The first look at a shift: a paired t's variance from fewer pairs is too rough for the
# boundary's nominal level. In 3,000 A/A comparisons of benchmarks/sequential_design.py
# (at most 60 rounds) first looks at 10 pairs called a difference in 5.8 %, at 15 in 5.1 %.
FIRST_LOOK_PAIRS = 15


def pocock_spending(alpha: float, fraction: float) -> float:
    """The share of alpha spent by information fraction t: alpha * ln(1 + (e - 1) t).

    Lan and DeMets' Pocock-type function spends early, so a large difference stops the run
    soon; O'Brien-Fleming's spends almost nothing before the end, which suits a trial with
    five planned looks but not a benchmark that looks after every round.
    """
    return alpha * math.log(1 + (math.e - 1) * min(max(fraction, 0.0), 1.0))


@dataclass(frozen=True)
class _Looked:
    """The design after a look: what it has spent, and the sub-density of the score
    S = Z * sqrt(t) over the paths that have not crossed a boundary yet."""

    fraction: float
    spent: float
    boundary: float
    grid: np.ndarray
    weights: np.ndarray


_START = _Looked(fraction=0.0, spent=0.0, boundary=math.inf, grid=np.zeros(0), weights=np.zeros(0))
# Boundaries depend only on alpha and the looks' fractions: a simulation of thousands of
# runs, or explain's groups, meet the same sequences again and again.
_KNOWN: dict[tuple[float, tuple[tuple[float, bool], ...]], _Looked] = {}
_KNOWN_LIMIT = 4000


class GroupSequential:
    """Two-sided |Z| boundaries for looks at increasing information fractions.

    At each look the boundary is the one whose first-crossing probability under no
    difference equals the alpha the spending function releases since the last look, given
    that no earlier look crossed (Armitage, McPherson and Rowe's recursion on the
    sub-density of the score statistic, on a grid). The looks need not be planned: any
    fractions, in order, keep the total type I error at alpha.
    """

    def __init__(self, alpha: float) -> None:
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1 (got {alpha})")
        self.alpha = alpha
        self._looks: tuple[tuple[float, bool], ...] = ()
        self._state = _START

    @property
    def fraction(self) -> float:
        return self._state.fraction

    @property
    def spent(self) -> float:
        return self._state.spent

    def look(self, fraction: float, *, final: bool = False) -> float:
        """The |Z| boundary at this look; `final` spends whatever alpha is left."""
        fraction = min(fraction, 1.0)
        if fraction <= self.fraction:
            raise ValueError(
                f"information must grow between looks ({fraction} after {self.fraction})"
            )
        self._looks += ((fraction, final),)
        key = (self.alpha, self._looks)
        if key not in _KNOWN:
            if len(_KNOWN) >= _KNOWN_LIMIT:
                _KNOWN.clear()
            _KNOWN[key] = _next_look(self.alpha, self._state, fraction, final)
        self._state = _KNOWN[key]
        return self._state.boundary


def _next_look(alpha: float, before: _Looked, fraction: float, final: bool) -> _Looked:
    release = (alpha if final else pocock_spending(alpha, fraction)) - before.spent
    stats = scipy_stats()
    root_t = math.sqrt(fraction)
    if not before.fraction:
        boundary = float(stats.norm.isf(release / 2)) if release > 0 else _LARGEST_BOUNDARY
        grid = _span(boundary, root_t)
        density = stats.norm.pdf(grid, scale=root_t)
        crossed = 2 * float(stats.norm.sf(boundary))
    else:
        step = math.sqrt(fraction - before.fraction)

        def crossing(b: float) -> float:
            edge = b * root_t
            outside = stats.norm.sf((edge - before.grid) / step) + stats.norm.cdf(
                (-edge - before.grid) / step
            )
            return float(before.weights @ outside)

        if release <= 0 or crossing(_LARGEST_BOUNDARY) >= release:
            boundary = _LARGEST_BOUNDARY
        else:
            boundary = _root(lambda b: crossing(b) - release, 0.0, _LARGEST_BOUNDARY)
        crossed = crossing(boundary)
        grid = _span(boundary, root_t)
        kernel = stats.norm.pdf((grid[:, None] - before.grid[None, :]) / step) / step
        density = kernel @ before.weights
    weights = density * (grid[1] - grid[0])
    weights[[0, -1]] /= 2  # the trapezoid rule's ends
    return _Looked(fraction, before.spent + crossed, boundary, grid, weights)


def _span(boundary: float, root_t: float) -> np.ndarray:
    """The grid over the continuation region |S| < boundary * sqrt(t)."""
    return np.linspace(-1, 1, _GRID_POINTS) * min(boundary, _GRID_REACH) * root_t


def _root(function: Callable[[float], float], low: float, high: float) -> float:
    """Where `function` changes sign between `low` and `high`."""
    from scipy.optimize import brentq  # imported when a run first looks, as stats does SciPy

    return float(brentq(function, low, high, xtol=1e-6))


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
    # The repeated confidence interval: it covers the true shift at every look at once with
    # probability 1 - alpha.
    ci_low: float
    ci_high: float
    t: float
    # This look's |t| boundary: the Z boundary's nominal level, on n - 1 degrees of freedom.
    boundary: float
    # The two-sided p value of this look alone, to read against the boundary's.
    p_value: float
    boundary_p_value: float
    settled: Settled


class ShiftMonitor:
    """Is the sample slower, faster, or within `margin_ms` of the reference? Asked after
    every round, answered at level `alpha` however many rounds it takes.

    The two sides are paired by round: both sessions of a pair ran back to back with the
    same fault and jitter draws, so what the world did to both cancels in their
    difference. The statistic is the paired t of the differences, held to the Z
    boundary's nominal level on n - 1 degrees of freedom (Jennison and Turnbull's
    significance-level approach for an unknown variance); the information fraction is
    the pairs over `max_runs`, so a failed session (which leaves its pair out) slows the
    design down instead of fooling it.
    """

    def __init__(self, alpha: float, max_runs: int, margin_ms: float) -> None:
        self.design = GroupSequential(alpha)
        self.max_runs = max_runs
        self.margin_ms = margin_ms
        self.last: ShiftLook | None = None

    def look(self, differences: Sequence[float], *, final: bool = False) -> ShiftLook | None:
        """None when there is nothing new to look at: fewer than FIRST_LOOK_PAIRS pairs,
        or no new pair since the last look."""
        pairs = len(differences)
        if pairs < FIRST_LOOK_PAIRS or min(pairs / self.max_runs, 1.0) <= self.design.fraction:
            return None
        z_boundary = self.design.look(pairs / self.max_runs, final=final)
        values = np.asarray(differences, dtype=float)
        mean = float(values.mean())
        error = float(values.std(ddof=1)) / math.sqrt(pairs)
        stats = scipy_stats()
        nominal = float(2 * stats.norm.sf(z_boundary))
        boundary = float(stats.t.isf(nominal / 2, pairs - 1))
        t = _t_statistic(mean, error)
        ci_low, ci_high = mean - boundary * error, mean + boundary * error
        found = ShiftLook(
            pairs=pairs,
            shift_ms=mean,
            ci_low=ci_low,
            ci_high=ci_high,
            t=t,
            boundary=boundary,
            p_value=float(2 * stats.t.sf(abs(t), pairs - 1)),
            boundary_p_value=nominal,
            settled=_settled(ci_low, ci_high, self.margin_ms),
        )
        self.last = found
        return found


def _t_statistic(mean: float, error: float) -> float:
    if error > 0:
        return mean / error
    # Every pair differed by the same amount: no spread to hold that amount against.
    return math.copysign(math.inf, mean) if mean else 0.0


def _settled(ci_low: float, ci_high: float, margin_ms: float) -> Settled:
    if ci_low > 0:
        return Settled.SLOWER
    if ci_high < 0:
        return Settled.FASTER
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
