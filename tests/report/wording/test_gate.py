"""A gate's checks in words: threshold, measurement and the reason for the verdict."""

from dataclasses import replace
from pathlib import Path

import pytest

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.gate import (
    Check,
    GateReport,
    RegressionCheck,
    RegressionOutcome,
    SuccessCheck,
    TargetCheck,
)
from qrbench.analysis.stats import Difference, RankTest, RatioOfMedians, Significance
from qrbench.analysis.summary import FailureCount
from qrbench.analysis.thresholds import Thresholds
from qrbench.report.wording.gate import (
    check_measured,
    check_note,
    check_threshold,
    check_why,
    folded_line,
    gate_significance_notes,
    headline,
    is_folded,
)

SLOW_TEST = RankTest(0.0001, 0.9, n_sample=10, n_reference=10)
SLOWER = Difference(RatioOfMedians(1.7, 1.5, 1.9), SLOW_TEST, 0.0001, Significance.SLOWER)


def _regression(outcome: RegressionOutcome, difference: Difference = SLOWER) -> RegressionCheck:
    return RegressionCheck("qr_wait", 10.0, 10.4, 5.2, difference, outcome)


def test_the_target_check_names_the_percentile_and_what_it_is_over() -> None:
    target = TargetCheck(percentile=95, target_ms=10_000, value_ms=1234.0, successful=4)
    assert (check_threshold(target), check_measured(target)) == ("<= 10,000 ms", "1,234 ms")
    assert check_why(target) == "over the 4 successful session(s) only; too few for p95 (needs 20)"
    none = TargetCheck(percentile=95, target_ms=10_000, value_ms=None, successful=0)
    assert (check_measured(none), check_why(none)) == ("-", "no session showed a QR")


def test_the_success_check_lists_the_failures() -> None:
    failures = [FailureCount("qr_wait", "QrTimeout", 2, "no QR"), FailureCount("x", "Hang", 1, "")]
    success = SuccessCheck(min_success_percent=98, succeeded=7, measured=10, failures=failures)
    assert (check_threshold(success), check_measured(success)) == (">= 98%", "7/10 (70%)")
    assert check_why(success) == (
        "a verified QR shown, however late; failed: QrTimeout in qr_wait x2; Hang in x x1; "
        "too few for 98% (needs 50)"
    )


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (RegressionOutcome.REGRESSED, "; significant and over +10%"),
        (RegressionOutcome.WITHIN_LIMIT, "; within +10%"),
        (RegressionOutcome.UNDER_NOISE, "; by 5.2 ms only: under 10 ms is timer noise"),
    ],
)
def test_a_regression_says_how_much_slower_and_why_that_passes_or_fails(
    outcome: RegressionOutcome, reason: str
) -> None:
    check = _regression(outcome)
    assert check_threshold(check) == "median <= +10%"
    assert check_measured(check) == "10 vs 5.2 ms"
    assert check_why(check) == "1.70x slower (95 % CI 1.50-1.90x, p < 0.001)" + reason


def test_a_regression_against_a_zero_baseline_has_no_ratio_to_limit() -> None:
    no_ratio = Difference(None, SLOW_TEST, 0.0001, Significance.SLOWER)
    assert check_why(_regression(RegressionOutcome.NO_RATIO, no_ratio)) == (
        "slower, no ratio (reference 0 ms) (p < 0.001); the baseline's median is 0 ms, "
        "so no ratio to limit"
    )


def _report(checks: list[Check], caveats: list[Caveat] | None = None) -> GateReport:
    return GateReport(
        profile="optimized",
        scenario="lan",
        source=Path("r.json"),
        baseline=None,
        thresholds=Thresholds(10_000, 95, 98, 10),
        measured=10,
        succeeded=10,
        checks=checks,
        caveats=caveats or [],
        stage_family=[],
    )


def test_the_headline_names_the_failed_checks() -> None:
    passing = TargetCheck(percentile=95, target_ms=10_000, value_ms=1234.0, successful=10)
    assert headline(_report([passing])) == "gate passed: 1/1 checks"
    failing = [passing, _regression(RegressionOutcome.REGRESSED)]
    assert headline(_report(failing)) == "gate FAILED: 1 of 2 checks (regression qr_wait)"


def test_a_pass_on_too_few_sessions_says_so_in_the_headline_and_the_reasons() -> None:
    target = TargetCheck(percentile=95, target_ms=10_000, value_ms=1234.0, successful=3)
    success = SuccessCheck(min_success_percent=98, succeeded=3, measured=3, failures=[])
    few = [
        Caveat(CaveatKind.FEW_SESSIONS_FOR_LEVEL, "optimized", n=3, check=name, needed=needed)
        for name, needed in (("time-to-QR p95", 20), ("success rate", 50))
    ]
    assert headline(_report([target, success], few)) == (
        "gate passed: 2/2 checks, but time-to-QR p95 and success rate on too few sessions"
    )
    assert check_why(target) == "over the 3 successful session(s) only; too few for p95 (needs 20)"
    assert check_why(success) == "a verified QR shown, however late; too few for 98% (needs 50)"
    assert (check_note(target), check_note(success)) == ("only 3 of 20", "only 3 of 50")
    enough = SuccessCheck(min_success_percent=98, succeeded=50, measured=50, failures=[])
    assert check_why(enough) == "a verified QR shown, however late"


@pytest.mark.parametrize(
    ("outcome", "note"),
    [
        (RegressionOutcome.REGRESSED, "1.70x slower"),
        (RegressionOutcome.WITHIN_LIMIT, "1.70x in limit"),
        (RegressionOutcome.UNDER_NOISE, "+5.2 ms only"),
        (RegressionOutcome.NO_RATIO, "no ratio"),
    ],
)
def test_a_regression_note_is_short(outcome: RegressionOutcome, note: str) -> None:
    check = _regression(outcome)
    assert (
        check_note(check),
        check_threshold(check, compact=True),
        check_measured(check, unit=False),
    ) == (
        note,
        "<= +10%",
        "10 vs 5.2",
    )


def test_passing_stage_checks_fold_into_one_line_that_says_what_they_found() -> None:
    not_slower = _regression(RegressionOutcome.NOT_SLOWER)
    within = _regression(RegressionOutcome.WITHIN_LIMIT)
    assert is_folded(not_slower) and not is_folded(_regression(RegressionOutcome.REGRESSED))
    time_to_qr = RegressionCheck("time-to-QR", 10.0, 1.0, 1.0, SLOWER, RegressionOutcome.NOT_SLOWER)
    assert not is_folded(time_to_qr)
    assert folded_line([not_slower], others=False) == ("regression 1 stage", "none slower")
    assert folded_line([not_slower, within], others=True) == (
        "regression 2 other stages",
        "none regressed",
    )
    few = Difference(None, RankTest(0.5, 0.5, 3, 3), 0.5, Significance.TOO_FEW_RUNS)
    unjudged = _regression(RegressionOutcome.NOT_SLOWER, few)
    assert folded_line([unjudged], others=False)[1] == "no verdict"


def test_the_notes_say_how_regressions_were_judged_and_when_no_stage_could_fail() -> None:
    def report(runs: int) -> GateReport:
        test = RankTest(0.4, 0.6, n_sample=runs, n_reference=runs)
        found = Difference(None, test, 0.4, Significance.NOT_SIGNIFICANT)
        time_to_qr = RegressionCheck(
            "time-to-QR", 10.0, 1.0, 1.0, found, RegressionOutcome.NOT_SLOWER
        )
        return replace(_report([time_to_qr]), stage_family=[f"stage{i}" for i in range(10)])

    assert gate_significance_notes(report(6)) == [
        "significance: Holm-adjusted across 10 stages vs the baseline, family alpha 0.05; "
        "time-to-QR, the primary check, alone at 0.05"
    ]
    # 5 a side: 2/252 = 0.0079, times 10 stages, is over 0.05.
    assert gate_significance_notes(report(5))[1] == (
        "optimized: at 5 and 5 runs no p falls below 0.0079, too large for 10 tests: nothing "
        "can be called significant; use --runs 6 or more"
    )
    assert gate_significance_notes(_report([])) == []
