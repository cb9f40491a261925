"""The CI regression gate: judge one run against thresholds and, optionally, a baseline run.

The gate reads results documents (results/README.md), so a run it just measured and a
file saved last week are judged the same way, and the thresholds recorded with the run's
profile (its `gate:` section) travel with it. It never prints: the CLI renders the report.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, assert_never

import numpy as np
from pydantic import ValidationError

from qrbench import results
from qrbench.analysis.compare import (
    Caveat,
    Comparison,
    LabelledRun,
    SuccessRate,
    compare,
    describe_difference,
    describe_success,
    format_ms,
    run_from_document,
    unique_labels,
)
from qrbench.analysis.stats import Difference, MetricSummary, Significance
from qrbench.analysis.summary import count_failures
from qrbench.config.models import Profile, Scenario
from qrbench.errors import ConfigError
from qrbench.records import SessionError

BASELINE_LABEL = "baseline"
# A significant slowdown of less than this (in medians) never fails the gate: stages of a
# few ms (cache reads, auth) move by large ratios with timer and scheduler jitter that no
# user could notice.
MIN_REGRESSION_MS = 10.0

_DURATION = re.compile(r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+))\s*(?P<unit>ms|s)?", re.IGNORECASE)
_PERCENT = re.compile(r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+))\s*%?")


class CheckStatus(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the verdict: what was held to what, and why it passed or failed."""

    name: str
    threshold: str
    measured: str
    status: CheckStatus
    why: str


@dataclass(frozen=True)
class Thresholds:
    target_ms: float
    percentile: float
    min_success_percent: float
    max_regression_percent: float


@dataclass(frozen=True)
class ThresholdOverrides:
    """Thresholds given on the command line; None where the profile's `gate:` decides."""

    target_ms: float | None = None
    percentile: float | None = None
    min_success_percent: float | None = None
    max_regression_percent: float | None = None


@dataclass(frozen=True)
class SavedRun:
    """A results document and the file it came from."""

    path: Path
    document: dict[str, Any]


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
    # What to know before trusting the regression checks (noise, too few runs, another
    # machine or Chromium build): reported, never failed on.
    caveats: list[Caveat]

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.status is CheckStatus.FAIL]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def every_session_failed(self) -> bool:
        return self.measured > 0 and self.succeeded == 0


def parse_duration_ms(text: str, option: str) -> float:
    """`10s`, `800ms` or a bare number of seconds, as milliseconds greater than 0."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"{option}: expected a duration like 10s or 800ms (got {text!r})")
    value = float(match["number"])
    unit = (match["unit"] or "s").lower()
    value_ms = value if unit == "ms" else value * 1000
    if value_ms <= 0:
        raise ConfigError(f"{option}: must be greater than 0 (got {text})")
    return value_ms


def parse_percent(text: str, option: str, *, low: float, high: float | None) -> float:
    """`98%` or `98`, as a percentage in [low, high] (no upper bound when high is None)."""
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"{option}: expected a percentage like 98% (got {text!r})")
    value = float(match["number"])
    if high is None and value < low:
        raise ConfigError(f"{option}: must be at least {low:g}% (got {text})")
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{option}: must be between {low:g}% and {high:g}% (got {text})")
    return value


def parse_overrides(
    *,
    target: str | None,
    percentile: str | None,
    min_success: str | None,
    max_regression: str | None,
) -> ThresholdOverrides:
    """The command line's thresholds as typed; raises ConfigError naming the bad option."""
    parsed_percentile = None
    if percentile is not None:
        parsed_percentile = parse_percent(percentile, "--percentile", low=0, high=100)
        # The 0th percentile is the minimum: a gate on the fastest session judges nothing.
        if parsed_percentile == 0:
            raise ConfigError(f"--percentile: must be greater than 0 (got {percentile})")
    return ThresholdOverrides(
        target_ms=None if target is None else parse_duration_ms(target, "--target"),
        percentile=parsed_percentile,
        min_success_percent=(
            None
            if min_success is None
            else parse_percent(min_success, "--min-success", low=0, high=100)
        ),
        max_regression_percent=(
            None
            if max_regression is None
            else parse_percent(max_regression, "--max-regression", low=0, high=None)
        ),
    )


def resolve_thresholds(overrides: ThresholdOverrides, profile: Profile) -> Thresholds:
    """The command line wins over the profile's `gate:` section, which has defaults."""
    gate = profile.gate
    target_s = profile.target.deadline_s if gate.target_s is None else gate.target_s
    return Thresholds(
        target_ms=_given_or(overrides.target_ms, target_s * 1000),
        percentile=_given_or(overrides.percentile, gate.percentile),
        min_success_percent=_given_or(overrides.min_success_percent, gate.min_success_percent),
        max_regression_percent=_given_or(
            overrides.max_regression_percent, gate.max_regression_percent
        ),
    )


def _given_or(given: float | None, default: float) -> float:
    return default if given is None else given


def read_run(path: Path) -> SavedRun:
    try:
        return SavedRun(path=path, document=results.load(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise results.ResultsError(f"{path}: cannot read ({exc})") from None


def judge(
    current: SavedRun, overrides: ThresholdOverrides, baseline: SavedRun | None
) -> GateReport:
    """Every check on the measured sessions of `current`; raises ResultsError if unusable."""
    profile = _recorded(Profile, current, "profile")
    scenario = _recorded(Scenario, current, "scenario")
    thresholds = resolve_thresholds(overrides, profile)
    reference_label, label = unique_labels([BASELINE_LABEL, profile.name])
    run = run_from_document(current.document, label, str(current.path))
    if not run.sessions:
        raise results.ResultsError(f"{current.path}: no measured sessions to judge")
    checks = [_target_check(run, thresholds), _success_check(run, thresholds)]
    caveats: list[Caveat] = []
    if baseline is not None:
        reference = baseline_run(baseline, reference_label)
        comparison = compare([reference, run], reference.label)
        checks += _regression_checks(comparison, label, thresholds)
        caveats = comparison.caveats
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
    )


def baseline_run(baseline: SavedRun, label: str = BASELINE_LABEL) -> LabelledRun:
    """The baseline's sessions; raises ResultsError when none of them can be compared with."""
    reference = run_from_document(baseline.document, label, str(baseline.path))
    if not any(session["ok"] for session in reference.sessions):
        raise results.ResultsError(f"{baseline.path}: no successful session to compare with")
    return reference


def headline(report: GateReport) -> str:
    """E.g. `gate passed: 8/8 checks` or `gate FAILED: 2 of 8 checks (success rate, ...)`."""
    total = len(report.checks)
    if report.passed:
        return f"gate passed: {total}/{total} checks"
    names = ", ".join(check.name for check in report.failed)
    return f"gate FAILED: {len(report.failed)} of {total} checks ({names})"


_Model = TypeVar("_Model", Profile, Scenario)


def _recorded(model: type[_Model], saved: SavedRun, key: str) -> _Model:
    """The profile or scenario the run recorded, with this qrbench's defaults filled in."""
    try:
        return model.model_validate(saved.document.get(key))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise results.ResultsError(
            f"{saved.path}: the recorded {key} is not one this qrbench reads "
            f"({where}: {first['msg']})"
        ) from None


def _succeeded(run: LabelledRun) -> int:
    return sum(1 for session in run.sessions if session["ok"])


def _target_check(run: LabelledRun, thresholds: Thresholds) -> Check:
    percentile = thresholds.percentile
    name = f"time-to-QR p{percentile:g}"
    threshold = f"<= {format_ms(thresholds.target_ms)} ms"
    times = [s["time_to_qr_ms"] for s in run.sessions if s["ok"] and s["time_to_qr_ms"] is not None]
    if not times:
        return Check(name, threshold, "-", CheckStatus.FAIL, "no session showed a QR")
    # The same (linear) interpolation as the p95 of every timing in qrbench's summaries.
    value = float(np.percentile(times, percentile))
    over = value > thresholds.target_ms
    return Check(
        name=name,
        threshold=threshold,
        measured=f"{format_ms(value)} ms",
        status=CheckStatus.FAIL if over else CheckStatus.PASS,
        why=f"over the {len(times)} successful session(s) only",
    )


def _success_check(run: LabelledRun, thresholds: Thresholds) -> Check:
    succeeded, measured = _succeeded(run), len(run.sessions)
    minimum = thresholds.min_success_percent
    # Integer arithmetic: 49/50 against 98 % must not hinge on float rounding.
    low = succeeded * 100 < minimum * measured
    why = "a verified QR shown, however late"
    failures = count_failures(
        [SessionError(**session["error"]) for session in run.sessions if session["error"]]
    )
    if failures:
        listed = "; ".join(f"{f.type} in {f.stage} x{f.count}" for f in failures)
        why += f"; failed: {listed}"
    return Check(
        name="success rate",
        threshold=f">= {minimum:g}%",
        measured=describe_success(SuccessRate(succeeded, measured, p_value=None)),
        status=CheckStatus.FAIL if low else CheckStatus.PASS,
        why=why,
    )


def _regression_checks(comparison: Comparison, label: str, thresholds: Thresholds) -> list[Check]:
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
) -> Check:
    allowed = thresholds.max_regression_percent
    # E.g. "1.70x slower, too few runs to tell (...)" or "8.90x slower (95 % CI ..., p < 0.001)".
    why = describe_difference(found)
    status = CheckStatus.PASS
    match found.significance:
        case Significance.SLOWER:
            slower_by_ms = mine.median - theirs.median
            if found.ratio is None:
                why += "; the baseline's median is 0 ms, so no ratio to limit"
            elif found.ratio.value <= 1 + allowed / 100:
                why += f"; within +{allowed:g}%"
            elif slower_by_ms < MIN_REGRESSION_MS:
                why += (
                    f"; by {format_ms(slower_by_ms)} ms only: under {MIN_REGRESSION_MS:g} ms "
                    "is timer noise"
                )
            else:
                status = CheckStatus.FAIL
                why += f"; significant and over +{allowed:g}%"
        case Significance.FASTER | Significance.NOT_SIGNIFICANT | Significance.TOO_FEW_RUNS:
            pass
        case _:
            assert_never(found.significance)
    return Check(
        name=f"regression {metric}",
        threshold=f"median <= +{allowed:g}%",
        measured=f"{format_ms(mine.median)} vs {format_ms(theirs.median)} ms",
        status=status,
        why=why,
    )
