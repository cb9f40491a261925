"""The gate's core on synthetic results documents shaped exactly like a results file."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qrbench.analysis.compare import CaveatKind
from qrbench.analysis.gate import (
    MIN_REGRESSION_MS,
    Check,
    CheckStatus,
    GateReport,
    SavedRun,
    ThresholdOverrides,
    judge,
    parse_duration_ms,
    parse_overrides,
    resolve_thresholds,
)
from qrbench.baseline import baseline_path, copy_to_baseline, read_baseline
from qrbench.config.loader import ProfileError, load_profile
from qrbench.config.models import Profile
from qrbench.errors import ConfigError
from qrbench.results import ResultsError
from tests.analysis.test_compare import draw, results_document
from tests.conftest import write_yaml

NO_OVERRIDES = ThresholdOverrides()


def saved(
    profile: str, times: list[float | None], *, gate: dict[str, Any] | None = None, **kwargs: Any
) -> SavedRun:
    document = results_document(profile, times, **kwargs)
    if gate is not None:
        document["profile"]["gate"] = gate
    return SavedRun(path=Path(f"{profile}.json"), document=document)


def check(report: GateReport, name: str) -> Check:
    (found,) = [c for c in report.checks if c.name == name]
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
        ({"target": "ten"}, "--target: expected a duration like 10s or 800ms (got 'ten')"),
        ({"min_success": "150%"}, "--min-success: must be between 0% and 100% (got 150%)"),
        ({"percentile": "0"}, "--percentile: must be greater than 0 (got 0)"),
        ({"percentile": "101"}, "--percentile: must be between 0% and 100% (got 101)"),
        ({"max_regression": "-5%"}, "--max-regression: must be at least 0% (got -5%)"),
        ({"max_regression": "lots"}, "--max-regression: expected a percentage like 98%"),
    ],
)
def test_bad_thresholds_name_the_option_and_the_value(given: dict[str, str], message: str) -> None:
    options = {"target": None, "percentile": None, "min_success": None, "max_regression": None}
    with pytest.raises(ConfigError) as raised:
        parse_overrides(**(options | given))
    assert str(raised.value).startswith(message)


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
    assert target.status is CheckStatus.PASS
    expected = np.percentile([1000.0, 1100.0, 1200.0, 1300.0], 95)
    assert target.measured == f"{expected:,.0f} ms"
    assert "4 successful" in target.why
    success = check(report, "success rate")
    assert success.status is CheckStatus.FAIL
    assert success.measured == "4/5 (80%)"
    assert "QrTimeout in qr_wait x1" in success.why
    assert [c.name for c in report.failed] == ["success rate"]
    assert not report.passed


def test_a_tight_target_fails_only_the_target_check() -> None:
    report = judge(
        saved("optimized", [1000.0, 1100.0, 1200.0]),
        parse_overrides(target="0.05s", percentile=None, min_success=None, max_regression=None),
        None,
    )
    assert [c.name for c in report.failed] == ["time-to-QR p95"]
    assert report.failed[0].threshold == "<= 50 ms"


def test_success_rate_exactly_at_the_minimum_passes() -> None:
    times: list[float | None] = [*([1000.0] * 49), None]
    report = judge(saved("optimized", times), NO_OVERRIDES, None)
    assert check(report, "success rate").status is CheckStatus.PASS


def test_the_gate_section_recorded_with_the_run_applies_to_a_saved_file() -> None:
    run = saved("optimized", [1000.0, 1100.0, 1200.0], gate={"target_s": 0.5, "percentile": 50})
    report = judge(run, NO_OVERRIDES, None)
    assert check(report, "time-to-QR p50").status is CheckStatus.FAIL
    assert report.thresholds.target_ms == 500


def test_clear_slowdown_against_the_baseline_fails_time_to_qr_and_the_slow_stages() -> None:
    rng = np.random.default_rng(7)
    baseline = saved("old", draw(rng, 1100, 10))
    current = saved("new", draw(rng, 4000, 10))
    report = judge(current, NO_OVERRIDES, baseline)
    regression = check(report, "regression time-to-QR")
    assert regression.status is CheckStatus.FAIL
    assert regression.why.endswith("; significant and over +10%")
    assert "x slower (95 % CI" in regression.why
    # The synthetic sessions split time-to-QR into fixed shares, so every timed stage moves.
    for stage in ("browser_launch", "page_load", "qr_wait"):
        assert check(report, f"regression {stage}").status is CheckStatus.FAIL
    # Unchanged stages and a stage whose baseline takes 0 ms never fail.
    assert check(report, "regression qr_verify").status is CheckStatus.PASS
    assert check(report, "regression auth_restore").status is CheckStatus.PASS
    assert report.baseline == Path("old.json")


def test_aa_against_the_same_distribution_passes() -> None:
    rng = np.random.default_rng(8)
    report = judge(
        saved("optimized", draw(rng, 1500, 10)),
        NO_OVERRIDES,
        saved("optimized", draw(rng, 1500, 10)),
    )
    assert report.passed, [c for c in report.failed]
    assert len(report.checks) == 2 + 1 + 5  # target, success, time-to-QR, five stages


def test_too_few_runs_never_fails_the_gate_but_says_so() -> None:
    report = judge(
        saved("new", [9000.0, 9100.0, 9200.0]),
        NO_OVERRIDES,
        saved("old", [1000.0, 1010.0, 1020.0, 1030.0, 1040.0]),
    )
    regression = check(report, "regression time-to-QR")
    assert regression.status is CheckStatus.PASS
    assert "too few runs" in regression.why
    assert any(c.kind is CaveatKind.TOO_FEW_RUNS for c in report.caveats)


def test_a_significant_slowdown_within_the_allowed_regression_passes() -> None:
    rng = np.random.default_rng(9)
    baseline = draw(rng, 2000, 12, spread=0.01)
    current = [t * 1.05 for t in baseline]
    report = judge(saved("new", current), NO_OVERRIDES, saved("old", baseline))
    regression = check(report, "regression time-to-QR")
    assert regression.status is CheckStatus.PASS
    assert regression.why.startswith("1.05x slower (95 % CI")
    assert regression.why.endswith("; within +10%")
    stricter = parse_overrides(target=None, percentile=None, min_success=None, max_regression="2%")
    assert not judge(saved("new", current), stricter, saved("old", baseline)).passed


def test_a_large_ratio_on_a_few_milliseconds_is_timer_noise() -> None:
    # qr_wait is 5 % of time-to-QR: about 5 ms -> 10 ms doubles it, but by under the floor.
    baseline = [100.0 + i for i in range(10)]
    current = [2 * t for t in baseline]
    report = judge(saved("new", current), NO_OVERRIDES, saved("old", baseline))
    qr_wait = check(report, "regression qr_wait")
    assert qr_wait.status is CheckStatus.PASS
    assert qr_wait.measured == "10 vs 5.2 ms"
    assert qr_wait.why.endswith(f"ms only: under {MIN_REGRESSION_MS:g} ms is timer noise")
    # page_load (half of time-to-QR) doubles by about 50 ms: a real regression.
    assert check(report, "regression page_load").status is CheckStatus.FAIL


def test_a_baseline_from_another_machine_warns_but_does_not_fail() -> None:
    rng = np.random.default_rng(10)
    other = {"chromium": "Chromium 140.0.1", "cpu_model": "Other CPU", "cpu_cores": 16}
    report = judge(
        saved("optimized", draw(rng, 1500, 10)),
        NO_OVERRIDES,
        saved("optimized", draw(rng, 1500, 10), environment=other),
    )
    assert report.passed
    differ = [c.message for c in report.caveats if c.kind is CaveatKind.ENVIRONMENTS_DIFFER]
    assert len(differ) == 3
    assert any("Chromium" in message and "Chromium 140.0.1" in message for message in differ)


def test_every_session_failing_is_reported_as_such() -> None:
    report = judge(saved("new", [None, None]), NO_OVERRIDES, None)
    assert report.every_session_failed
    assert check(report, "time-to-QR p95").measured == "-"


def test_unusable_documents_are_results_errors() -> None:
    with pytest.raises(ResultsError, match="no measured sessions"):
        judge(saved("new", []), NO_OVERRIDES, None)
    with pytest.raises(ResultsError, match="no successful session to compare with"):
        judge(saved("new", [1000.0]), NO_OVERRIDES, saved("old", [None]))
    unknown = saved("new", [1000.0], gate={"strictness": 3})
    with pytest.raises(ResultsError, match=r"recorded profile .*gate\.strictness"):
        judge(unknown, NO_OVERRIDES, None)


def test_baselines_are_named_after_profile_and_scenario_and_must_exist(tmp_path: Path) -> None:
    destination = baseline_path("optimized", "lan", tmp_path / "baselines")
    assert destination == tmp_path / "baselines" / "optimized-lan.json"
    with pytest.raises(ConfigError, match="no such baseline file"):
        read_baseline(destination)
    source = tmp_path / "run.json"
    document = results_document("optimized", [1500.0, 1600.0])
    source.write_text(json.dumps(document), encoding="utf-8")
    copy_to_baseline(source, destination)
    assert read_baseline(destination).document == document


def test_a_baseline_without_a_successful_session_is_refused_when_read(tmp_path: Path) -> None:
    # Before the gate's benchmark runs, not after it.
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(results_document("optimized", [None, None])), encoding="utf-8")
    with pytest.raises(ResultsError, match="no successful session to compare with"):
        read_baseline(path)
