"""CSV exports: one row per metric and profile, for spreadsheets and plotting scripts."""

import csv
import io
from pathlib import Path
from typing import Any

from qrbench.analysis.compare import Comparison, MetricComparison
from qrbench.analysis.stats import MetricSummary
from qrbench.analysis.summary import RunSummary

SUCCESS_RATE = "success rate"
TIMING_COLUMNS = (
    "n",
    "mean",
    "sd",
    "min",
    "median",
    "p95",
    "max",
    "median_ci_low",
    "median_ci_high",
)
COLUMNS = (
    "metric",
    "kind",
    "unit",
    "profile",
    *TIMING_COLUMNS,
    "succeeded",
    "measured",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "p_value",
    # The p the significance was decided on: Holm-adjusted across the comparison's metrics.
    "p_adjusted",
    "significance",
)


def _timing(summary: MetricSummary | None) -> dict[str, Any]:
    if summary is None:
        return {}
    return {column: getattr(summary, column) for column in TIMING_COLUMNS}


def _table(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_run(profile: str, scenario: str, results_path: Path, summary: RunSummary) -> str:
    """Profile name in every row; `scenario` and `results_path` are in the JSON export."""
    measured: list[tuple[str, str, str, MetricSummary | None]] = [
        (stage.name, "critical" if stage.critical else "background", "ms", stage.timing)
        for stage in summary.stages
    ]
    measured += [
        ("time-to-QR", "total", "ms", summary.time_to_qr_ms),
        ("peak_rss", "", "MB", summary.peak_rss_mb),
        ("cpu_time", "", "s", summary.cpu_time_s),
    ]
    counts = {"profile": profile, "succeeded": summary.succeeded, "measured": summary.measured}
    rows = [
        {"metric": metric, "kind": kind, "unit": unit, **counts, **_timing(timing)}
        for metric, kind, unit, timing in measured
    ]
    rows.append({"metric": SUCCESS_RATE, **counts})
    return _table(rows)


def _metric_rows(metric: MetricComparison, comparison: Comparison) -> list[dict[str, Any]]:
    rows = []
    for label in comparison.labels:
        kind = metric.kinds.get(label)
        rate = comparison.success[label]
        row: dict[str, Any] = {
            "metric": metric.name,
            "kind": "" if kind is None else kind.value,
            "unit": "ms",
            "profile": label,
            "succeeded": rate.succeeded,
            "measured": rate.measured,
            **_timing(metric.summaries[label]),
        }
        found = metric.differences.get(label)
        if found is not None:
            row |= {
                "p_value": found.test.p_value,
                "p_adjusted": found.adjusted_p_value,
                "significance": found.significance.value,
            }
            if found.ratio is not None:
                row |= {
                    "ratio": found.ratio.value,
                    "ratio_ci_low": found.ratio.ci_low,
                    "ratio_ci_high": found.ratio.ci_high,
                }
        rows.append(row)
    return rows


def render_comparison(comparison: Comparison) -> str:
    """Ratios, p-values and verdicts sit in the non-reference profiles' rows."""
    rows = []
    for metric in [*comparison.stages, comparison.time_to_qr]:
        rows += _metric_rows(metric, comparison)
    for label in comparison.labels:
        rate = comparison.success[label]
        rows.append(
            {
                "metric": SUCCESS_RATE,
                "profile": label,
                "succeeded": rate.succeeded,
                "measured": rate.measured,
                "p_value": "" if rate.p_value is None else rate.p_value,
            }
        )
    return _table(rows)
