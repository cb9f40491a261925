"""The CI regression gate: judge one run against thresholds and, optionally, a baseline run.

The gate reads results documents (results/README.md), so a run it just measured and a
file saved last week are judged the same way, and the thresholds recorded with the run's
profile (its `gate:` section) travel with it. It never prints: the CLI renders the report.
"""

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, assert_never

import numpy as np
from pydantic import ValidationError

from qrbench import results
from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.compare import (
    Comparison,
    LabelledRun,
    compare,
    run_from_results,
    unique_labels,
)
from qrbench.analysis.sequential import TargetStop
from qrbench.analysis.stats import Difference, MetricSummary, Significance
from qrbench.analysis.summary import FailureCount, Verdict
from qrbench.analysis.thresholds import ThresholdOverrides, Thresholds, resolve_thresholds
from qrbench.baseline import check_usable, refuse_incomplete
from qrbench.config.models import Profile, Scenario
from qrbench.config.validation import describe

BASELINE_LABEL = "baseline"
# A significant slowdown of less than this (in medians) never fails the gate: stages of a
# few ms (cache reads, auth) move by large ratios with timer and scheduler jitter that no
# user could notice.
MIN_REGRESSION_MS = 10.0


@dataclass(frozen=True)
class TargetCheck:
    """Time-to-QR at a percentile of the successful sessions, held to the target."""

    percentile: float
    target_ms: float
    # None when no session showed a QR.
    value_ms: float | None
    successful: int

    @property
    def name(self) -> str:
        return f"time-to-QR p{self.percentile:g}"

    @property
    def status(self) -> Verdict:
        over = self.value_ms is None or self.value_ms > self.target_ms
        return Verdict.FAIL if over else Verdict.PASS


@dataclass(frozen=True)
class SuccessCheck:
    """The share of sessions that showed a verified QR, however late."""

    min_success_percent: float
    succeeded: int
    measured: int
    failures: list[FailureCount]

    @property
    def name(self) -> str:
        return "success rate"

    @property
    def status(self) -> Verdict:
        # Integer arithmetic: 49/50 against 98 % must not hinge on float rounding.
        low = self.succeeded * 100 < self.min_success_percent * self.measured
        return Verdict.FAIL if low else Verdict.PASS


class RegressionOutcome(StrEnum):
    """Why a regression check passed or failed."""

    NOT_SLOWER = "not slower"  # faster, not significant, or too few runs to tell
    NO_RATIO = "no ratio"  # significantly slower, but the baseline's median is 0 ms
    WITHIN_LIMIT = "within limit"
    UNDER_NOISE = "under noise"  # slower by less than MIN_REGRESSION_MS
    REGRESSED = "regressed"  # significantly slower, by more than the limit allows


@dataclass(frozen=True)
class RegressionCheck:
    """A metric's median against the baseline's."""

    metric: str
    max_regression_percent: float
    median_ms: float
    baseline_median_ms: float
    difference: Difference
    outcome: RegressionOutcome

    @property
    def name(self) -> str:
        return f"regression {self.metric}"

    @property
    def status(self) -> Verdict:
        return Verdict.FAIL if self.outcome is RegressionOutcome.REGRESSED else Verdict.PASS


# One line of the verdict: what was held to what, and the figures that decided it.
Check = TargetCheck | SuccessCheck | RegressionCheck


@dataclass(frozen=True)
class GateReport:
    profile: str
    scenario: str
    source: Path
    baseline: Path | None
    thresholds: Thresholds
    measured: int
    succeeded: int
    checks: list[Check]
    # What to know before trusting the checks (a level that needs more sessions than were
    # measured; for the regression checks noise, too few runs, another machine or Chromium
    # build): reported, never failed on.
    caveats: list[Caveat]
    # The stages whose regression checks were judged as one Holm family (time-to-QR, the
    # primary test, is judged alone); empty without a baseline.
    stage_family: list[str]
    # How `--runs auto` ended when the gate ran its sessions so; None otherwise.
    auto_stop: TargetStop | None = None

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.status is Verdict.FAIL]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def every_session_failed(self) -> bool:
        return self.measured > 0 and self.succeeded == 0


def judge(
    current: results.SavedRun,
    overrides: ThresholdOverrides,
    baseline: results.SavedRun | None,
) -> GateReport:
    """Every check on the measured sessions of `current`; raises ResultsError if unusable."""
    refuse_incomplete(current, "the gate judges complete runs only")
    profile = _recorded(Profile, current.profile, "profile", current.path)
    scenario = _recorded(Scenario, current.scenario, "scenario", current.path)
    thresholds = resolve_thresholds(overrides, profile)
    reference_label, label = unique_labels([BASELINE_LABEL, profile.name])
    run = run_from_results(current, label)
    if not len(run.sessions):
        raise results.ResultsError(f"{current.path}: no measured sessions to judge")
    target, success = _target_check(run, thresholds), _success_check(run, thresholds)
    checks: list[Check] = [target, success]
    caveats = _level_caveats(label, target, success)
    stage_family: list[str] = []
    if baseline is not None:
        reference = baseline_run(baseline, reference_label)
        comparison = compare([reference, run], reference.label, time_to_qr_in_family=False)
        checks += _regression_checks(comparison, label, thresholds)
        caveats += comparison.caveats
        stage_family = comparison.families[label]
    return GateReport(
        profile=profile.name,
        scenario=scenario.name,
        source=current.path,
        baseline=None if baseline is None else baseline.path,
        thresholds=thresholds,
        measured=len(run.sessions),
        succeeded=_succeeded(run),
        checks=checks,
        caveats=caveats,
        stage_family=stage_family,
    )


def sessions_needed(level_percent: float) -> int | None:
    """The sessions a statistic at this level needs for one of them to lie beyond it: 20 for
    p95, 50 for a 98 % success rate (one failure in 50). With fewer, p95 is an
    interpolation between the slowest sessions, and a success rate that passes has not
    been given the chance of the one failure it allows. None at 100 %: every session is
    the statistic itself (the slowest, or all of them succeeding)."""
    if level_percent >= 100:
        return None
    # Rounded first: 100 / (100 - 99.9) is 1000.0000000000001 in floating point.
    return math.ceil(round(100 / (100 - level_percent), 6))


def _level_caveats(label: str, target: TargetCheck, success: SuccessCheck) -> list[Caveat]:
    """A caveat for each check whose level needs more sessions than it rests on."""
    caveats = []
    for check, level, n in (
        (target.name, target.percentile, target.successful),
        (success.name, success.min_success_percent, success.measured),
    ):
        needed = sessions_needed(level)
        # No sessions at all is a failed check already, not a caveat.
        if needed is not None and 0 < n < needed:
            caveats.append(
                Caveat(
                    CaveatKind.FEW_SESSIONS_FOR_LEVEL,
                    label,
                    n=n,
                    check=check,
                    level=level,
                    needed=needed,
                )
            )
    return caveats


def baseline_run(baseline: results.SavedRun, label: str = BASELINE_LABEL) -> LabelledRun:
    """The baseline's sessions; raises ResultsError when none of them can be compared with."""
    check_usable(baseline)
    return run_from_results(baseline, label)


_Model = TypeVar("_Model", Profile, Scenario)


def _recorded(model: type[_Model], recorded: dict[str, Any], key: str, path: Path) -> _Model:
    """The profile or scenario the run recorded, with this qrbench's defaults filled in."""
    try:
        return model.model_validate(recorded)
    except ValidationError as exc:
        raise results.ResultsError(
            f"{path}: the recorded {key} is not one this qrbench reads ({describe(exc)})"
        ) from None


def _succeeded(run: LabelledRun) -> int:
    return run.sessions.succeeded


def _target_check(run: LabelledRun, thresholds: Thresholds) -> TargetCheck:
    percentile = thresholds.percentile
    times = run.sessions.qr_times
    return TargetCheck(
        percentile=percentile,
        target_ms=thresholds.target_ms,
        # The same (linear) interpolation as the p95 of every timing in qrbench's summaries.
        value_ms=float(np.percentile(times, percentile)) if times else None,
        successful=len(times),
    )


def _success_check(run: LabelledRun, thresholds: Thresholds) -> SuccessCheck:
    failures = run.sessions.failures
    return SuccessCheck(
        min_success_percent=thresholds.min_success_percent,
        succeeded=_succeeded(run),
        measured=len(run.sessions),
        failures=failures,
    )


def _regression_checks(
    comparison: Comparison, label: str, thresholds: Thresholds
) -> list[RegressionCheck]:
    """Time-to-QR and every stage both runs have, each against the baseline's."""
    checks = []
    for metric in [comparison.time_to_qr, *comparison.stages]:
        found = metric.differences[label]
        mine, theirs = metric.summaries[label], metric.summaries[comparison.reference]
        # A stage only one side has is no regression of that stage; time-to-QR holds its cost.
        if found is None or mine is None or theirs is None:
            continue
        checks.append(_regression_check(metric.name, found, mine, theirs, thresholds))
    return checks


def _regression_check(
    metric: str,
    found: Difference,
    mine: MetricSummary,
    theirs: MetricSummary,
    thresholds: Thresholds,
) -> RegressionCheck:
    allowed = thresholds.max_regression_percent
    match found.significance:
        case Significance.SLOWER:
            if found.ratio is None:
                outcome = RegressionOutcome.NO_RATIO
            elif found.ratio.value <= 1 + allowed / 100:
                outcome = RegressionOutcome.WITHIN_LIMIT
            elif mine.median - theirs.median < MIN_REGRESSION_MS:
                outcome = RegressionOutcome.UNDER_NOISE
            else:
                outcome = RegressionOutcome.REGRESSED
        case Significance.FASTER | Significance.NOT_SIGNIFICANT | Significance.TOO_FEW_RUNS:
            outcome = RegressionOutcome.NOT_SLOWER
        case _:
            assert_never(found.significance)
    return RegressionCheck(
        metric=metric,
        max_regression_percent=allowed,
        median_ms=mine.median,
        baseline_median_ms=theirs.median,
        difference=found,
        outcome=outcome,
    )
