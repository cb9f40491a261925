"""A gate's verdict in words: each check's threshold, measurement and reason."""

from typing import assert_never

from qrbench.analysis.gate import (
    MIN_REGRESSION_MS,
    Check,
    GateReport,
    RegressionCheck,
    RegressionOutcome,
    SuccessCheck,
    TargetCheck,
)
from qrbench.report.wording.compare import describe_difference
from qrbench.report.wording.numbers import format_ms, format_rate


def check_threshold(check: Check) -> str:
    match check:
        case TargetCheck():
            return f"<= {format_ms(check.target_ms)} ms"
        case SuccessCheck():
            return f">= {check.min_success_percent:g}%"
        case RegressionCheck():
            return f"median <= +{check.max_regression_percent:g}%"
        case _:
            assert_never(check)


def check_measured(check: Check) -> str:
    match check:
        case TargetCheck():
            return "-" if check.value_ms is None else f"{format_ms(check.value_ms)} ms"
        case SuccessCheck():
            return format_rate(check.succeeded, check.measured)
        case RegressionCheck():
            return f"{format_ms(check.median_ms)} vs {format_ms(check.baseline_median_ms)} ms"
        case _:
            assert_never(check)


def check_why(check: Check) -> str:
    """Why the check passed or failed, e.g. `8.90x slower (...); significant and over +10%`."""
    match check:
        case TargetCheck():
            if check.value_ms is None:
                return "no session showed a QR"
            return f"over the {check.successful} successful session(s) only"
        case SuccessCheck():
            why = "a verified QR shown, however late"
            if check.failures:
                listed = "; ".join(f"{f.type} in {f.stage} x{f.count}" for f in check.failures)
                why += f"; failed: {listed}"
            return why
        case RegressionCheck():
            return describe_difference(check.difference) + _regression_reason(check)
        case _:
            assert_never(check)


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
    """E.g. `gate passed: 8/8 checks` or `gate FAILED: 2 of 8 checks (success rate, ...)`."""
    total = len(report.checks)
    if report.passed:
        return f"gate passed: {total}/{total} checks"
    names = ", ".join(check.name for check in report.failed)
    return f"gate FAILED: {len(report.failed)} of {total} checks ({names})"
