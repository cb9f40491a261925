"""A gate's verdict in words: each check's threshold, measurement and reason."""

from typing import assert_never

from qrbench.analysis.caveats import CaveatKind
from qrbench.analysis.compare import TIME_TO_QR
from qrbench.analysis.gate import (
    MIN_REGRESSION_MS,
    Check,
    GateReport,
    RegressionCheck,
    RegressionOutcome,
    SuccessCheck,
    TargetCheck,
    sessions_needed,
)
from qrbench.analysis.stats import Significance
from qrbench.analysis.summary import Verdict
from qrbench.report.wording.compare import (
    describe_difference,
    family_note,
    reach_notes,
    short_difference,
    verdict_legend,
)
from qrbench.report.wording.numbers import format_factor, format_ms, format_rate


def check_threshold(check: Check, *, compact: bool = False) -> str:
    """`<= 10,000 ms`, `>= 98%`, `median <= +10%`; `compact` for an 80-column table:
    `<= 10 s`, `>= 98%`, `<= +10%`."""
    match check:
        case TargetCheck():
            if compact:
                return f"<= {check.target_ms / 1000:g} s"
            return f"<= {format_ms(check.target_ms)} ms"
        case SuccessCheck():
            return f">= {check.min_success_percent:g}%"
        case RegressionCheck():
            limit = f"<= +{check.max_regression_percent:g}%"
            return limit if compact else f"median {limit}"
        case _:
            assert_never(check)


def check_measured(check: Check, *, unit: bool = True) -> str:
    """`1,234 ms`, `9/10 (90%)`, `977 vs 930 ms`; without `unit` where a title says ms."""
    ms = " ms" if unit else ""
    match check:
        case TargetCheck():
            return "-" if check.value_ms is None else f"{format_ms(check.value_ms)}{ms}"
        case SuccessCheck():
            return format_rate(check.succeeded, check.measured)
        case RegressionCheck():
            return f"{format_ms(check.median_ms)} vs {format_ms(check.baseline_median_ms)}{ms}"
        case _:
            assert_never(check)


def check_why(check: Check) -> str:
    """Why the check passed or failed, e.g. `8.90x slower (...); significant and over +10%`."""
    match check:
        case TargetCheck():
            if check.value_ms is None:
                return "no session showed a QR"
            return f"over the {check.successful} successful session(s) only" + _too_few(
                check.percentile, check.successful, f"p{check.percentile:g}"
            )
        case SuccessCheck():
            why = "a verified QR shown, however late"
            if check.failures:
                listed = "; ".join(f"{f.type} in {f.stage} x{f.count}" for f in check.failures)
                why += f"; failed: {listed}"
            level = check.min_success_percent
            return why + _too_few(level, check.measured, f"{level:g}%")
        case RegressionCheck():
            return describe_difference(check.difference) + _regression_reason(check)
        case _:
            assert_never(check)


def _too_few(level: float, sessions: int, named: str) -> str:
    """`; too few for p95 (needs 20)` where a level rests on fewer sessions than it needs."""
    needed = sessions_needed(level)
    if needed is None or not 0 < sessions < needed:
        return ""
    return f"; too few for {named} (needs {needed})"


def _short_few(level: float, sessions: int) -> str | None:
    needed = sessions_needed(level)
    return None if needed is None or not 0 < sessions < needed else f"only {sessions} of {needed}"


def _regression_reason(check: RegressionCheck) -> str:
    allowed = check.max_regression_percent
    match check.outcome:
        case RegressionOutcome.NOT_SLOWER:
            return ""
        case RegressionOutcome.NO_RATIO:
            return "; the baseline's median is 0 ms, so no ratio to limit"
        case RegressionOutcome.WITHIN_LIMIT:
            return f"; within +{allowed:g}%"
        case RegressionOutcome.UNDER_NOISE:
            slower_by_ms = check.median_ms - check.baseline_median_ms
            return (
                f"; by {format_ms(slower_by_ms)} ms only: under {MIN_REGRESSION_MS:g} ms "
                "is timer noise"
            )
        case RegressionOutcome.REGRESSED:
            return f"; significant and over +{allowed:g}%"
        case _:
            assert_never(check.outcome)


def headline(report: GateReport) -> str:
    """E.g. `gate passed: 8/8 checks` or `gate FAILED: 2 of 8 checks (success rate, ...)`;
    a pass that rests on fewer sessions than a check's level needs says so."""
    total = len(report.checks)
    if report.passed:
        text = f"gate passed: {total}/{total} checks"
        few = [c.check for c in report.caveats if c.kind is CaveatKind.FEW_SESSIONS_FOR_LEVEL]
        if few:
            text += f", but {' and '.join(str(name) for name in few)} on too few sessions"
        return text
    names = ", ".join(check.name for check in report.failed)
    return f"gate FAILED: {len(report.failed)} of {total} checks ({names})"


def check_note(check: Check) -> str:
    """`check_why` in a few words; the whole reason goes below the table (`check_why`)."""
    match check:
        case TargetCheck():
            if check.value_ms is None:
                return "no QR shown"
            few = _short_few(check.percentile, check.successful)
            return few or f"of {check.successful} shown"
        case SuccessCheck():
            failed = check.measured - check.succeeded
            few = _short_few(check.min_success_percent, check.measured)
            return f"{failed} failed" if failed else few or "however late"
        case RegressionCheck():
            match check.outcome:
                case RegressionOutcome.NOT_SLOWER | RegressionOutcome.REGRESSED:
                    return short_difference(check.difference)
                case RegressionOutcome.NO_RATIO:
                    return "no ratio"
                case RegressionOutcome.WITHIN_LIMIT:
                    ratio = check.difference.ratio
                    factor = "" if ratio is None else f"{format_factor(ratio.value)}x "
                    return f"{factor}in limit"
                case RegressionOutcome.UNDER_NOISE:
                    return f"+{format_ms(check.median_ms - check.baseline_median_ms)} ms only"
                case _:
                    assert_never(check.outcome)
        case _:
            assert_never(check)


def is_folded(check: Check) -> bool:
    """A passing stage regression check: folded into one line unless --verbose."""
    return (
        isinstance(check, RegressionCheck)
        and check.status is Verdict.PASS
        and check.metric != TIME_TO_QR
    )


def folded_line(checks: list[RegressionCheck], *, others: bool) -> tuple[str, str]:
    """The name and note of the line that stands for passing stage checks (`others` when
    some stage checks are shown on their own lines)."""
    stages = f"{len(checks)}{' other' if others else ''} stage{'s' if len(checks) != 1 else ''}"
    slower = any(check.outcome is not RegressionOutcome.NOT_SLOWER for check in checks)
    unjudged = all(c.difference.significance is Significance.TOO_FEW_RUNS for c in checks)
    note = "no verdict" if unjudged else "none regressed" if slower else "none slower"
    return f"regression {stages}", note


def gate_notes(report: GateReport) -> list[str]:
    """The gate table's footnotes: the marks of its regression notes and how they were
    judged, each said once."""
    regressions = [check for check in report.checks if isinstance(check, RegressionCheck)]
    legend = verdict_legend([check.difference for check in regressions])
    return [*legend, *gate_significance_notes(report)]


def gate_significance_notes(report: GateReport) -> list[str]:
    """How the regression checks were judged (time-to-QR alone, the stages as a family),
    and whether the stages' family could call anything at the runs measured."""
    family = family_note(
        {report.profile: len(report.stage_family)}, "the baseline", time_to_qr_alone=True
    )
    if family is None:
        return []
    time_to_qr = next(
        c for c in report.checks if isinstance(c, RegressionCheck) and c.metric == TIME_TO_QR
    )
    test = time_to_qr.difference.test
    sizes = (test.n_sample, test.n_reference, len(report.stage_family))
    return [family, *reach_notes({sizes: [report.profile]})]
