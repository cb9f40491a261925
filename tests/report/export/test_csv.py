"""CSV exports parse with the csv module: a header, then a row per metric and profile."""

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from qrbench.analysis.compare import compare
from qrbench.analysis.stats import summarize
from qrbench.analysis.summary import StageSummary, Verdict
from qrbench.report.export import csv as csv_export
from tests.helpers import draw, labelled, run_summary


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == list(csv_export.COLUMNS)
    return list(reader)


def test_comparison_has_a_row_per_metric_and_profile() -> None:
    rng = np.random.default_rng(31)
    old_times, new_times = draw(rng, 1100, 6), draw(rng, 2300, 6)
    comparison = compare([labelled("old", old_times), labelled("new", new_times)], "old")
    rows = _rows(csv_export.render_comparison(comparison))
    metrics = [stage.name for stage in comparison.stages] + ["time-to-QR", "success rate"]
    assert [(row["metric"], row["profile"]) for row in rows] == [
        (metric, label) for metric in metrics for label in ("old", "new")
    ]
    by_key = {(row["metric"], row["profile"]): row for row in rows}
    new_ttq = by_key[("time-to-QR", "new")]
    assert float(new_ttq["median"]) == pytest.approx(np.median(new_times))
    assert float(new_ttq["ratio"]) == pytest.approx(np.median(new_times) / np.median(old_times))
    assert new_ttq["significance"] == "slower"
    # Holm's adjustment is never below the raw p; the significance was decided on it.
    assert float(new_ttq["p_value"]) < float(new_ttq["p_adjusted"]) < 0.05
    assert by_key[("time-to-QR", "old")]["ratio"] == ""
    assert by_key[("success rate", "new")]["succeeded"] == "6"
    assert float(by_key[("success rate", "new")]["p_value"]) == 1.0


def test_run_summary_has_a_row_per_metric() -> None:
    timing = summarize([1000.0, 1100.0, 1200.0])
    assert timing is not None
    summary = run_summary(
        measured=3,
        succeeded=3,
        within_deadline=3,
        deadline_ms=10000.0,
        verdict=Verdict.PASS,
        time_to_qr_ms=timing,
        stages=[StageSummary(name="page_load", critical=True, timing=timing)],
        peak_rss_mb=None,
        cpu_time_s=None,
        failures=[],
        web_cache={},
        caveats=[],
    )
    rows = _rows(csv_export.render_run("optimized", "lan", Path("r.json"), summary))
    assert [row["metric"] for row in rows] == [
        "page_load",
        "time-to-QR",
        "peak_rss",
        "cpu_time",
        "success rate",
    ]
    assert {row["profile"] for row in rows} == {"optimized"}
    assert rows[1]["median"] == "1100.0" and rows[1]["unit"] == "ms"
    assert rows[2]["median"] == ""
