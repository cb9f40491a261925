"""The gate's verdict at 80 columns: passing stage checks folded unless verbose."""

import numpy as np

from qrbench.analysis.gate import RegressionCheck, judge
from qrbench.analysis.thresholds import ThresholdOverrides
from qrbench.report.console.gate import gate_report
from tests.helpers import draw, rendered, saved, table_lines

WIDTH = 80
STAGES = ("auth_restore", "browser_launch", "page_load", "qr_wait", "qr_verify")


def _checks(rows: list[str]) -> list[str]:
    return [row.split("│")[0].strip() for row in rows]


def test_passing_stage_checks_share_one_line() -> None:
    rng = np.random.default_rng(1)
    report = judge(
        saved("new", draw(rng, 1100, 10)), ThresholdOverrides(), saved("old", draw(rng, 1100, 10))
    )
    assert report.passed
    lines = rendered(gate_report(report))
    assert max(map(len, lines)) <= WIDTH
    rows = table_lines(lines)
    assert _checks(rows) == [
        "time-to-QR p95",
        "success rate",
        "regression time-to-QR",
        "regression 5 stages",
    ]
    assert "none slower" in rows[-1] and "PASS" in rows[-1]
    text = " ".join("\n".join(lines).split())
    assert (
        "significance: Holm-adjusted across 5 stages vs the baseline, family alpha 0.05; "
        "time-to-QR, the primary check, alone at 0.05"
    ) in text


def test_verbose_shows_every_check_on_one_line_and_its_reason() -> None:
    rng = np.random.default_rng(1)
    report = judge(
        saved("new", draw(rng, 1100, 3)), ThresholdOverrides(), saved("old", draw(rng, 1100, 3))
    )
    lines = rendered(gate_report(report, verbose=True))
    assert max(map(len, lines)) <= WIDTH
    rows = table_lines(lines)
    assert _checks(rows) == [check.name for check in report.checks]
    assert len(rows) == 2 + 1 + len(STAGES)
    for row in rows:
        assert "too few" not in row and "slower" not in row and "faster" not in row
    text = " ".join("\n".join(lines).split())
    assert text.count("ratio: the medians' ratio, no verdict: too few runs to tell") == 1
    for stage in STAGES:
        assert f"regression {stage}: " in text


def test_failed_stage_checks_show_alone_with_their_reason_and_the_rest_fold() -> None:
    rng = np.random.default_rng(2)
    report = judge(
        saved("new", draw(rng, 1650, 10)), ThresholdOverrides(), saved("old", draw(rng, 1100, 10))
    )
    lines = rendered(gate_report(report))
    assert max(map(len, lines)) <= WIDTH
    rows = table_lines(lines)
    failed = [c.name for c in report.failed]
    assert failed[0] == "regression time-to-QR" and len(failed) == 4
    assert _checks(rows) == ["time-to-QR p95", "success rate", *failed, "regression 2 other stages"]
    for name in failed:
        (row,) = [row for row in rows if f" {name} " in row]
        assert "FAIL" in row and "x slower" in row
    text = " ".join("\n".join(lines).split())
    for check in report.failed:
        assert isinstance(check, RegressionCheck)
        assert f"{check.name}: " in text and "significant and over +10%" in text
