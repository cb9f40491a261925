"""The gate's core on synthetic results documents shaped exactly like a results file."""

from pathlib import Path

import numpy as np
import pytest

from qrbench.analysis.caveats import CaveatKind
from qrbench.analysis.compare import compare
from qrbench.analysis.gate import (
    MIN_REGRESSION_MS,
    Check,
    GateReport,
    RegressionCheck,
    RegressionOutcome,
    SuccessCheck,
    TargetCheck,
    judge,
)
from qrbench.analysis.stats import SIGNIFICANCE_LEVEL, Significance
from qrbench.analysis.summary import Verdict
from qrbench.analysis.thresholds import (
    ThresholdOverrides,
    parse_duration_ms,
    parse_overrides,
    resolve_thresholds,
)
from qrbench.config.loader import ProfileError, load_profile
from qrbench.config.models import Profile
from qrbench.errors import ConfigError
from qrbench.results import ResultsError
from tests.helpers import draw, saved, synthetic_run, write_yaml

NO_OVERRIDES = ThresholdOverrides()
CALLED = (Significance.SLOWER, Significance.FASTER)


def check(report: GateReport, name: str) -> Check:
    (found,) = [c for c in report.checks if c.name == name]
    return found


def regression(report: GateReport, metric: str) -> RegressionCheck:
    found = check(report, f"regression {metric}")
    assert isinstance(found, RegressionCheck)
    return found


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [("10s", 10000), ("800ms", 800), ("0.05s", 50), ("1.5", 1500), (" 2 S ", 2000)],
)
def test_durations_parse_with_or_without_a_unit(text: str, expected_ms: float) -> None:
    assert parse_duration_ms(text, "--target") == pytest.approx(expected_ms)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"target": "-1"}, "--target: must be greater than 0 (got -1)"),
        ({"target": "0ms"}, "--target: must be greater than 0 (got 0ms)"),
        ({"target": "ten"}, "--target: expected a duration like 10s, 800ms or 10m (got 'ten')"),
        ({"min_success": "150%"}, "--min-success: must be between 0% and 100% (got 150%)"),
        ({"percentile": "0"}, "--percentile: must be greater than 0 (got 0)"),
        ({"percentile": "101"}, "--percentile: must be between 0% and 100% (got 101)"),
        ({"max_regression": "-5%"}, "--max-regression: must be at least 0% (got -5%)"),
        ({"max_regression": "lots"}, "--max-regression: expected a percentage like 98%"),
        (
            {"min_success": "0.98"},
            "--min-success: 0.98 is ambiguous: write 98% for 98 percent, or 0.98% if that is meant",
        ),
        ({"percentile": "0.95"}, "--percentile: 0.95 is ambiguous: write 95% for 95 percent"),
        ({"max_regression": ".1"}, "--max-regression: .1 is ambiguous: write 10% for 10"),
        ({"percentile": "p101"}, "--percentile: must be between 0% and 100%"),
    ],
)
def test_bad_thresholds_name_the_option_and_the_value(given: dict[str, str], message: str) -> None:
    options = {"target": None, "percentile": None, "min_success": None, "max_regression": None}
    with pytest.raises(ConfigError) as raised:
        parse_overrides(**(options | given))
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("text", ["p95", "P95", "95", "95%", " p 95 "])
def test_a_percentile_reads_as_the_tables_write_it_or_as_a_number(text: str) -> None:
    assert parse_overrides(
        target=None, percentile=text, min_success=None, max_regression=None
    ).percentile == pytest.approx(95)


def test_a_number_below_1_with_its_percent_sign_or_a_p_is_taken_as_written() -> None:
    given = parse_overrides(target=None, percentile="p0.5", min_success="0.98%", max_regression="0")
    assert (given.percentile, given.min_success_percent) == (0.5, 0.98)
    assert given.max_regression_percent == 0


def test_command_line_wins_over_the_profile_gate_section_which_wins_over_the_deadline() -> None:
    profile = Profile.model_validate(
        {"name": "p", "target": {"deadline_s": 10}, "gate": {"target_s": 4, "percentile": 90}}
    )
    from_profile = resolve_thresholds(NO_OVERRIDES, profile)
    assert from_profile.target_ms == 4000
    assert from_profile.percentile == 90
    assert from_profile.min_success_percent == 98  # the Gate model's default
    overridden = resolve_thresholds(
        parse_overrides(target="2s", percentile="50", min_success="75%", max_regression="20%"),
        profile,
    )
    assert overridden.target_ms == 2000
    assert overridden.percentile == 50
    assert overridden.min_success_percent == 75
    assert overridden.max_regression_percent == 20
    deadline_only = Profile.model_validate({"name": "p", "target": {"deadline_s": 7}})
    assert resolve_thresholds(NO_OVERRIDES, deadline_only).target_ms == 7000


def test_a_bad_gate_section_is_a_located_profile_error(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "bad.yaml", "gate:\n  min_success_percent: 150\n")
    with pytest.raises(ProfileError) as raised:
        load_profile(str(path))
    assert "bad.yaml:2: gate.min_success_percent:" in str(raised.value)


def test_target_percentile_is_over_successful_sessions_and_failures_hit_the_success_rate() -> None:
    times: list[float | None] = [1000.0, 1100.0, 1200.0, 1300.0, None]
    report = judge(saved("optimized", times), NO_OVERRIDES, None)
    target = check(report, "time-to-QR p95")
    assert isinstance(target, TargetCheck)
    assert target.status is Verdict.PASS
    assert target.value_ms == pytest.approx(np.percentile([1000.0, 1100.0, 1200.0, 1300.0], 95))
    assert target.successful == 4
    success = check(report, "success rate")
    assert isinstance(success, SuccessCheck)
    assert success.status is Verdict.FAIL
    assert (success.succeeded, success.measured) == (4, 5)
    assert [(f.type, f.stage, f.count) for f in success.failures] == [("QrTimeout", "qr_wait", 1)]
    assert [c.name for c in report.failed] == ["success rate"]
    assert not report.passed


def test_a_tight_target_fails_only_the_target_check() -> None:
    report = judge(
        saved("optimized", [1000.0, 1100.0, 1200.0]),
        parse_overrides(target="0.05s", percentile=None, min_success=None, max_regression=None),
        None,
    )
    assert [c.name for c in report.failed] == ["time-to-QR p95"]
    assert report.thresholds.target_ms == 50


def test_success_rate_exactly_at_the_minimum_passes() -> None:
    times: list[float | None] = [*([1000.0] * 49), None]
    report = judge(saved("optimized", times), NO_OVERRIDES, None)
    assert check(report, "success rate").status is Verdict.PASS


def test_the_gate_section_recorded_with_the_run_applies_to_a_saved_file() -> None:
    run = saved("optimized", [1000.0, 1100.0, 1200.0], gate={"target_s": 0.5, "percentile": 50})
    report = judge(run, NO_OVERRIDES, None)
    assert check(report, "time-to-QR p50").status is Verdict.FAIL
    assert report.thresholds.target_ms == 500


def test_clear_slowdown_against_the_baseline_fails_time_to_qr_and_the_slow_stages() -> None:
    rng = np.random.default_rng(7)
    baseline = saved("old", draw(rng, 1100, 10))
    current = saved("new", draw(rng, 4000, 10))
    report = judge(current, NO_OVERRIDES, baseline)
    slower = regression(report, "time-to-QR")
    assert slower.status is Verdict.FAIL
    assert slower.outcome is RegressionOutcome.REGRESSED
    # The synthetic sessions split time-to-QR into fixed shares, so every timed stage moves.
    for stage in ("browser_launch", "page_load", "qr_wait"):
        assert check(report, f"regression {stage}").status is Verdict.FAIL
    # Unchanged stages and a stage whose baseline takes 0 ms never fail.
    assert check(report, "regression qr_verify").status is Verdict.PASS
    assert check(report, "regression auth_restore").status is Verdict.PASS
    assert report.baseline == Path("old.json")


def test_aa_passes_with_time_to_qr_judged_alone_and_the_stages_as_one_holm_family() -> None:
    rng = np.random.default_rng(8)
    report = judge(
        saved("optimized", draw(rng, 1500, 10)),
        NO_OVERRIDES,
        saved("optimized", draw(rng, 1500, 10)),
    )
    assert report.passed, [c for c in report.failed]
    assert len(report.checks) == 2 + 1 + 5  # target, success, time-to-QR, five stages
    time_to_qr = regression(report, "time-to-QR").difference
    assert time_to_qr.adjusted_p_value == time_to_qr.test.p_value
    stages = [c for c in report.checks if isinstance(c, RegressionCheck)][1:]
    assert report.stage_family == [c.metric for c in stages]
    assert len(report.stage_family) == 5
    assert any(c.difference.adjusted_p_value > c.difference.test.p_value for c in stages)
    assert judge(saved("optimized", draw(rng, 1500, 10)), NO_OVERRIDES, None).stage_family == []


def test_aa_gates_hold_time_to_qr_and_the_stage_family_each_at_alpha() -> None:
    """The comparison the gate makes: time-to-QR alone at 0.05, any stage at 0.05 in all."""
    rng = np.random.default_rng(20261201)
    trials = 200
    time_to_qr = stages = stages_uncorrected = 0
    for _ in range(trials):
        runs = [synthetic_run(rng, "baseline", 10), synthetic_run(rng, "new", 10)]
        comparison = compare(runs, "baseline", time_to_qr_in_family=False)
        found = comparison.time_to_qr.differences["new"]
        assert found is not None
        time_to_qr += found.significance in CALLED
        tested = [d for s in comparison.stages if (d := s.differences["new"]) is not None]
        stages += any(d.significance in CALLED for d in tested)
        stages_uncorrected += any(d.test.p_value < SIGNIFICANCE_LEVEL for d in tested)
    assert stages_uncorrected / trials > 0.25
    # Binomial sd at 5 % over 200 is 1.5 %: 9 % is over 2.5 sd above the level.
    assert stages / trials <= 0.09
    assert time_to_qr / trials <= 0.09


def test_too_few_runs_never_fails_the_gate_but_says_so() -> None:
    report = judge(
        saved("new", [9000.0, 9100.0, 9200.0]),
        NO_OVERRIDES,
        saved("old", [1000.0, 1010.0, 1020.0, 1030.0, 1040.0]),
    )
    few = regression(report, "time-to-QR")
    assert few.status is Verdict.PASS
    assert few.outcome is RegressionOutcome.NOT_SLOWER
    assert few.difference.significance is Significance.TOO_FEW_RUNS
    assert any(c.kind is CaveatKind.TOO_FEW_RUNS for c in report.caveats)


def test_a_significant_slowdown_within_the_allowed_regression_passes() -> None:
    rng = np.random.default_rng(9)
    baseline = draw(rng, 2000, 12, spread=0.01)
    current = [t * 1.05 for t in baseline]
    report = judge(saved("new", current), NO_OVERRIDES, saved("old", baseline))
    within = regression(report, "time-to-QR")
    assert within.status is Verdict.PASS
    assert within.outcome is RegressionOutcome.WITHIN_LIMIT
    assert within.difference.ratio is not None
    assert within.difference.ratio.value == pytest.approx(1.05)
    stricter = parse_overrides(target=None, percentile=None, min_success=None, max_regression="2%")
    assert not judge(saved("new", current), stricter, saved("old", baseline)).passed


def test_a_large_ratio_on_a_few_milliseconds_is_timer_noise() -> None:
    # qr_wait is 5 % of time-to-QR: about 5 ms -> 10 ms doubles it, but by under the floor.
    baseline = [100.0 + i for i in range(10)]
    current = [2 * t for t in baseline]
    report = judge(saved("new", current), NO_OVERRIDES, saved("old", baseline))
    qr_wait = regression(report, "qr_wait")
    assert qr_wait.status is Verdict.PASS
    assert qr_wait.outcome is RegressionOutcome.UNDER_NOISE
    assert qr_wait.difference.significance is Significance.SLOWER
    assert 0 < qr_wait.median_ms - qr_wait.baseline_median_ms < MIN_REGRESSION_MS
    # page_load (half of time-to-QR) doubles by about 50 ms: a real regression.
    assert check(report, "regression page_load").status is Verdict.FAIL


def test_a_baseline_from_another_machine_warns_but_does_not_fail() -> None:
    rng = np.random.default_rng(10)
    other = {"chromium": "Chromium 140.0.1", "cpu_model": "Other CPU", "cpu_cores": 16}
    report = judge(
        saved("optimized", draw(rng, 1500, 10)),
        NO_OVERRIDES,
        saved("optimized", draw(rng, 1500, 10), environment=other),
    )
    assert report.passed
    differ = [c for c in report.caveats if c.kind is CaveatKind.ENVIRONMENTS_DIFFER]
    assert [c.setting for c in differ] == ["chromium", "cpu_model", "cpu_cores"]
    assert differ[0].values["baseline"] == "Chromium 140.0.1"


def test_every_session_failing_is_reported_as_such() -> None:
    report = judge(saved("new", [None, None]), NO_OVERRIDES, None)
    assert report.every_session_failed
    target = check(report, "time-to-QR p95")
    assert isinstance(target, TargetCheck)
    assert target.value_ms is None and target.status is Verdict.FAIL


def test_unusable_documents_are_results_errors() -> None:
    with pytest.raises(ResultsError, match="no measured sessions"):
        judge(saved("new", []), NO_OVERRIDES, None)
    with pytest.raises(ResultsError, match="no successful session to compare with"):
        judge(saved("new", [1000.0]), NO_OVERRIDES, saved("old", [None]))
    unknown = saved("new", [1000.0], gate={"strictness": 3})
    with pytest.raises(ResultsError, match=r"recorded profile .*gate\.strictness"):
        judge(unknown, NO_OVERRIDES, None)


def test_a_level_resting_on_too_few_sessions_is_a_caveat_not_a_failure() -> None:
    report = judge(saved("optimized", [1000.0, 1100.0]), NO_OVERRIDES, None)
    assert report.passed
    few = [c for c in report.caveats if c.kind is CaveatKind.FEW_SESSIONS_FOR_LEVEL]
    # p95 needs 20 sessions for one to lie beyond it; a 98 % rate 50 for one failure.
    assert [(c.label, c.check, c.n, c.level, c.needed) for c in few] == [
        ("optimized", "time-to-QR p95", 2, 95, 20),
        ("optimized", "success rate", 2, 98, 50),
    ]


def test_enough_sessions_for_the_levels_leave_no_caveat() -> None:
    times = draw(np.random.default_rng(8), 1000, 50)
    report = judge(saved("optimized", [*times]), NO_OVERRIDES, None)
    assert not [c for c in report.caveats if c.kind is CaveatKind.FEW_SESSIONS_FOR_LEVEL]
    lenient = parse_overrides(target=None, percentile="50", min_success="50%", max_regression=None)
    two = judge(saved("optimized", [1000.0, 1100.0]), lenient, None)
    assert not two.caveats
    # At 100 % the statistic is every session (the slowest; all of them succeeding).
    strict = parse_overrides(target=None, percentile="100", min_success="100", max_regression=None)
    assert not judge(saved("optimized", [1000.0]), strict, None).caveats
