"""The comparison core on synthetic sessions shaped exactly like a results file's records."""

import json
from pathlib import Path

import numpy as np
import pytest

from qrbench.analysis.caveats import CaveatKind
from qrbench.analysis.compare import (
    LabelledRun,
    MetricKind,
    compare,
    load_runs,
    resolve_reference,
    unique_labels,
)
from qrbench.analysis.stats import SIGNIFICANCE_LEVEL, Significance
from qrbench.report.wording.compare import describe_difference, describe_kind, headline
from qrbench.results import ResultsError
from tests.helpers import (
    AA_STAGE_MEDIANS,
    ENVIRONMENT,
    STAGE_SHARES,
    draw,
    labelled,
    labelled_document,
    results_document,
    synthetic_run,
)


def test_clear_slowdown_is_significant_with_the_ratio_of_medians() -> None:
    rng = np.random.default_rng(1)
    old_times, new_times = draw(rng, 1100, 10), draw(rng, 9800, 10)
    comparison = compare([labelled("old", old_times), labelled("new", new_times)], "old")
    found = comparison.time_to_qr.differences["new"]
    assert found is not None and found.ratio is not None
    assert found.significance is Significance.SLOWER
    assert found.ratio.value == pytest.approx(np.median(new_times) / np.median(old_times))
    assert found.ratio.ci_low < found.ratio.value < found.ratio.ci_high
    assert found.test.p_value < 0.001
    text = headline(comparison, "new")
    assert text.startswith("new: time-to-QR 9.")
    assert " vs old 1.1" in text
    assert f"{found.ratio.value:.2f}x slower (95 % CI " in text
    assert text.endswith(f"p < 0.001, Holm {found.adjusted_p_value:.2g})")


def test_a_speedup_reads_as_times_faster() -> None:
    rng = np.random.default_rng(2)
    comparison = compare(
        [labelled("new", draw(rng, 9800, 10)), labelled("optimized", draw(rng, 1400, 10))], "new"
    )
    found = comparison.time_to_qr.differences["optimized"]
    assert found is not None and found.ratio is not None
    assert found.significance is Significance.FASTER
    assert f"{1 / found.ratio.value:.2f}x faster" in headline(comparison, "optimized")


def test_a_against_a_is_not_significant() -> None:
    times = draw(np.random.default_rng(3), 1400, 10, spread=0.08)
    runs = [labelled("optimized", times), labelled("optimized#2", times)]
    comparison = compare(runs, "optimized")
    found = comparison.time_to_qr.differences["optimized#2"]
    assert found is not None
    assert found.significance is Significance.NOT_SIGNIFICANT
    assert all(
        stage.differences["optimized#2"].significance is Significance.NOT_SIGNIFICANT
        for stage in comparison.stages
        if stage.differences["optimized#2"] is not None
    )
    assert "same median, not significant (p = 1)" in headline(comparison, "optimized#2")


AA_COMPARISONS = 400


def test_aa_comparisons_call_any_metric_significant_at_most_at_alpha() -> None:
    """Same distribution on both sides, 10 independent stages and their sum: testing each at
    0.05 calls something significant in about a third of comparisons (the raw p values kept
    in the data show it); Holm across the family holds that at 0.05."""
    rng = np.random.default_rng(20261130)
    uncorrected = corrected = 0
    for _ in range(AA_COMPARISONS):
        comparison = compare([synthetic_run(rng, "a", 10), synthetic_run(rng, "b", 10)], "a")
        found = [
            difference
            for metric in [comparison.time_to_qr, *comparison.stages]
            if (difference := metric.differences["b"]) is not None
        ]
        assert len(found) == len(comparison.families["b"]) == 11
        uncorrected += any(f.test.p_value < SIGNIFICANCE_LEVEL for f in found)
        corrected += any(
            f.significance in (Significance.SLOWER, Significance.FASTER) for f in found
        )
    # 1 - 0.95^11 is 43 %; the rank test's discreteness and the sum's correlation lower it.
    assert uncorrected / AA_COMPARISONS > 0.25
    # Binomial sd at 5 % over 400 is 1.1 %: 8 % is 3 sd above the level Holm guarantees.
    assert corrected / AA_COMPARISONS <= 0.08


def test_a_real_difference_survives_the_family() -> None:
    rng = np.random.default_rng(11)
    slow = {**AA_STAGE_MEDIANS, "page_load": 2 * AA_STAGE_MEDIANS["page_load"]}
    comparison = compare(
        [synthetic_run(rng, "old", 10), synthetic_run(rng, "new", 10, slow)], "old"
    )
    page_load = next(s for s in comparison.stages if s.name == "page_load")
    found = page_load.differences["new"]
    assert found is not None and found.significance is Significance.SLOWER
    assert found.test.p_value < found.adjusted_p_value < SIGNIFICANCE_LEVEL
    time_to_qr = comparison.time_to_qr.differences["new"]
    assert time_to_qr is not None and time_to_qr.significance is Significance.SLOWER


def test_few_runs_never_claim_significance_and_say_so() -> None:
    comparison = compare(
        [labelled("old", [1000, 1010, 990]), labelled("new", [9000, 9100, 8900])], "old"
    )
    found = comparison.time_to_qr.differences["new"]
    assert found is not None
    assert found.significance is Significance.TOO_FEW_RUNS
    assert found.ratio is not None
    # No judgement, so no direction: the ratio alone, never "9.00x slower" beside "too few".
    assert describe_difference(found) == (
        f"median ratio {found.ratio.value:.2f}x, too few runs to tell (needs 5 per profile)"
    )
    few = [c for c in comparison.caveats if c.kind is CaveatKind.TOO_FEW_RUNS]
    assert {(c.label, c.n) for c in few} == {("old", 3), ("new", 3)}


def test_every_stage_of_any_run_gets_a_row_and_time_to_qr_is_separate() -> None:
    rng = np.random.default_rng(4)
    old = results_document("old", draw(rng, 1100, 6))
    new = results_document("new", draw(rng, 1200, 6))
    for session in new["sessions"]:
        session["stages"].append(
            {"name": "webhook", "start_ms": 0.0, "duration_ms": 300.0, "critical": True, "ok": True}
        )
    for session in old["sessions"]:
        session["stages"].append(
            {"name": "webhook", "start_ms": 0.0, "duration_ms": 3.0, "critical": False, "ok": True}
        )
        session["stages"].append(
            {"name": "db_update", "start_ms": 0.0, "duration_ms": 2.0, "critical": True, "ok": True}
        )
    comparison = compare(
        [labelled_document(old, "old", "a"), labelled_document(new, "new", "b")], "old"
    )
    names = [stage.name for stage in comparison.stages]
    assert names == [*STAGE_SHARES, "qr_verify", "webhook", "db_update"]
    db_update = comparison.stages[-1]
    assert db_update.summaries["new"] is None and db_update.differences["new"] is None
    webhook = comparison.stages[-2]
    assert webhook.kinds == {"old": MetricKind.BACKGROUND, "new": MetricKind.CRITICAL}
    assert describe_kind(webhook) == "background (old); critical (new)"
    assert describe_kind(comparison.stages[0]) == "critical"
    assert comparison.time_to_qr.name == "time-to-QR"


def test_a_stage_whose_reference_takes_no_time_has_no_ratio() -> None:
    comparison = compare([labelled("old", [1000.0] * 6), labelled("new", [1000.0] * 6)], "old")
    auth = next(stage for stage in comparison.stages if stage.name == "auth_restore")
    found = auth.differences["new"]
    assert found is not None and found.ratio is None
    assert "no ratio" in describe_difference(found)


def test_failures_and_success_rates_per_profile() -> None:
    rng = np.random.default_rng(5)
    new_times: list[float | None] = [*draw(rng, 9000, 4), None, None, None, None, None, None]
    comparison = compare([labelled("old", draw(rng, 1100, 10)), labelled("new", new_times)], "old")
    assert comparison.success["old"].succeeded == 10
    assert comparison.success["old"].p_value is None
    new_rate = comparison.success["new"]
    assert (new_rate.succeeded, new_rate.measured) == (4, 10)
    assert new_rate.p_value is not None and new_rate.p_value < 0.05
    (failure,) = comparison.failures["new"]
    assert (failure.stage, failure.type, failure.count) == ("qr_wait", "QrTimeout", 6)
    assert comparison.failures["old"] == []
    success = "success 4/10 (40%) vs 10/10 (100%), lower (Fisher p = 0.011)"
    assert success in headline(comparison, "new")


def test_warmups_are_left_out() -> None:
    run = labelled("old", [1000.0, 1010.0], warmup_ms=50000.0)
    assert list(run.sessions.numbers) == [2, 3]


def test_noise_outliers_and_a_slow_first_run_are_warned_about_with_hints() -> None:
    rng = np.random.default_rng(6)
    steady = draw(rng, 1000, 12, spread=0.02)
    noisy = draw(rng, 1000, 12, spread=0.3)
    with_outlier = [*steady[:6], 4000.0, *steady[6:]]
    cold_first = [2500.0, *steady]
    comparison = compare(
        [
            labelled("steady", steady),
            labelled("noisy", noisy),
            labelled("outlier", with_outlier),
            labelled("cold", cold_first),
        ],
        "steady",
    )
    kinds = {(c.kind, c.label) for c in comparison.caveats}
    assert (CaveatKind.NOISY, "noisy") in kinds
    assert (CaveatKind.OUTLIERS, "outlier") in kinds
    assert (CaveatKind.FIRST_RUN_SLOW, "cold") in kinds
    assert not any(label == "steady" for _, label in kinds)
    (outlier,) = [
        c for c in comparison.caveats if c.kind is CaveatKind.OUTLIERS and c.label == "outlier"
    ]
    assert outlier.sessions == {7: 4000.0}
    (cold,) = [c for c in comparison.caveats if c.kind is CaveatKind.FIRST_RUN_SLOW]
    assert cold.sessions == {1: 2500.0}


def test_busy_machine_and_differing_environments_are_warned_about() -> None:
    busy = {**ENVIRONMENT, "cpu_cores": 2, "load_average": [3.5, 2.0, 1.0]}
    comparison = compare(
        [labelled("old", [1000.0] * 6), labelled("new", [1000.0] * 6, environment=busy)], "old"
    )
    (busy_caveat,) = [c for c in comparison.caveats if c.kind is CaveatKind.MACHINE_BUSY]
    assert busy_caveat.label == "new"
    assert (busy_caveat.load_average, busy_caveat.cores) == (3.5, 2)
    differ = [c for c in comparison.caveats if c.kind is CaveatKind.ENVIRONMENTS_DIFFER]
    assert [(c.setting, c.values) for c in differ] == [("cpu_cores", {"old": 4, "new": 2})]


def test_labels_are_made_unique_in_order() -> None:
    assert unique_labels(["optimized", "old", "optimized", "optimized"]) == [
        "optimized",
        "old",
        "optimized#2",
        "optimized#3",
    ]


def test_reference_by_label_or_file(tmp_path: Path) -> None:
    runs = [labelled("old", [1000.0]), labelled("new", [1000.0])]
    runs = [LabelledRun(r.label, str(tmp_path / f"{r.label}.json"), r.sessions, {}) for r in runs]
    assert resolve_reference(None, runs) == "old"
    assert resolve_reference("new", runs) == "new"
    assert resolve_reference(str(tmp_path / "new.json"), runs) == "new"
    with pytest.raises(ResultsError, match="neither a label"):
        resolve_reference("typical", runs)


def test_files_that_are_not_results_are_refused_with_their_name(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"missing\.json"):
        load_runs([tmp_path / "missing.json"])
    with pytest.raises(ResultsError, match="cannot read"):
        load_runs([tmp_path])
    broken = tmp_path / "broken.json"
    document = results_document("x", [1000.0])
    document["sessions"][0] = {}
    broken.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"broken\.json: session 1: number: missing"):
        load_runs([broken])
