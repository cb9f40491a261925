"""Markdown exports: GitHub-flavoured tables a CI step summary renders."""

from pathlib import Path

import numpy as np

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.compare import Comparison, compare
from qrbench.analysis.explain.attribution import explain
from qrbench.analysis.explain.plan import Direction, plan_explanation
from qrbench.analysis.stats import summarize
from qrbench.analysis.summary import FailureCount, StageSummary, Verdict
from qrbench.config.estimates import load_estimates
from qrbench.config.loader import load_profile
from qrbench.report.export import markdown
from qrbench.report.wording.compare import headline
from tests.helpers import draw, labelled, run_summary


def _comparison() -> Comparison:
    rng = np.random.default_rng(21)
    new_times: list[float | None] = [*draw(rng, 9800, 8), None]
    runs = [labelled("old", draw(rng, 1100, 8)), labelled("new", new_times)]
    return compare(runs, "old")


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("| ")
    ]


def test_comparison_has_the_headline_a_table_header_and_a_row_per_metric() -> None:
    comparison = _comparison()
    text = markdown.render_comparison(comparison)
    assert headline(comparison, "new") in text
    lines = text.splitlines()
    header = lines.index(
        "| metric | kind | old median ms | old p95 ms | new median ms | new p95 ms | new vs old |"
    )
    assert lines[header + 1] == "|---|---|---:|---:|---:|---:|---|"
    metric_names = [row[0] for row in _table_rows(text)][1:]
    assert metric_names[: len(comparison.stages)] == [s.name for s in comparison.stages]
    assert "**time-to-QR**" in metric_names and "**success rate**" in metric_names
    assert "| new | qr_wait | QrTimeout | 1 | no QR within 30000 ms |" in text
    family = len(comparison.families["new"])
    assert family == 1 + len(comparison.stages)
    assert (
        f"- significance: Holm-adjusted across {family} metrics vs old, family alpha 0.05\n"
    ) in text


def test_every_table_row_has_as_many_cells_as_the_header() -> None:
    comparison = _comparison()
    text = markdown.render_comparison(comparison)
    main_table = _table_rows(text.split("#### Failures")[0])
    assert {len(row) for row in main_table} == {len(main_table[0])}


def test_pipes_in_messages_do_not_break_the_table() -> None:
    timing = summarize([1000.0, 1100.0])
    assert timing is not None
    summary = run_summary(
        measured=3,
        succeeded=2,
        within_deadline=2,
        deadline_ms=10000.0,
        verdict=Verdict.FAIL,
        time_to_qr_ms=timing,
        stages=[StageSummary(name="page_load", critical=True, timing=timing)],
        peak_rss_mb=None,
        cpu_time_s=None,
        failures=[FailureCount(stage="qr_wait", type="QrTimeout", count=1, example="a | b")],
        web_cache={"hit": 3},
        caveats=[Caveat(CaveatKind.TOO_FEW_RUNS, None, n=2)],
    )
    text = markdown.render_run("optimized", "lan", Path("results/x.json"), summary)
    assert text.startswith("### qrbench: optimized on lan")
    assert "**❌ FAIL**: 2/3 sessions" in text
    assert "| page_load | critical | 2 | 1,050 | 1,095 | 1,100 |" in text
    assert "| qr_wait | QrTimeout | 1 | a \\| b |" in text
    assert "- only 2 measured run(s) of time-to-QR: use --runs 5 or more" in text


def test_explanation_is_the_studys_table_with_remainder_and_total() -> None:
    plan = plan_explanation(load_profile("new"), load_profile("optimized"), Direction.BACKWARD)
    rng = np.random.default_rng(22)
    medians = {plan.slow: 9000.0, plan.fast: 1500.0}
    runs = [
        labelled(c.label, list(draw(rng, medians.get(c.label, 1500.0), 6)))
        for c in plan.configurations
    ]
    explanation = explain(plan, runs, "typical", load_estimates("seed"))
    text = markdown.render_explanation(explanation)
    assert text.startswith("### qrbench explain: new -> optimized on typical")
    assert "#### backward: optimized with one group at a time set back as in new" in text
    rows = _table_rows(text)
    assert rows[0] == [
        "knob", "slow value", "fast value", "measured saving", "95 % CI", "share",
        "significance", "stages moved", "estimate",
    ]  # fmt: skip
    assert {len(row) for row in rows} == {len(rows[0])}
    knobs = [row[0] for row in rows[1:]]
    assert knobs == [
        "auth", "timeouts", "Chromium args", "web-version cache", "webhook", "DB updates",
        "routing", "chat sync", "QR options", "*interaction remainder*", "**total gap**",
    ]  # fmt: skip
    webhook = rows[1 + knobs.index("webhook")]
    assert webhook[1:3] == ["mode: blocking", "mode: background"]
    assert webhook[-1].startswith("estimated -500 ms, measured ")
    for label, source in explanation.sources.items():
        assert f"- {label}: `{source}`" in text
