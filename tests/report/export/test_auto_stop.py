"""How `--runs auto` stopped, in every export: the console's lines, and the looks behind them."""

import json
import math
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

from qrbench.analysis.sequential import (
    AutoStop,
    Question,
    RegressionLook,
    RegressionSettled,
    Settled,
    ShiftLook,
    StopReason,
    TargetLook,
    TargetSettled,
    TargetStop,
)
from qrbench.analysis.summary import summarize_run
from qrbench.report.export import json as json_export
from qrbench.report.export import junit, markdown
from qrbench.report.html import page
from qrbench.report.html.inputs import read_report
from qrbench.report.html.model import ExplanationPart
from qrbench.report.html.parts import explanation_part, gate_part
from qrbench.report.wording.sampling import shift_lines, target_line
from tests.helpers import session, synthetic_explanation
from tests.report.export.test_junit import _report_with_failures
from tests.report.export.test_markdown import _comparison

SLOWER = ShiftLook(
    pairs=17,
    shift_ms=412.4,
    ci_low=301.0,
    ci_high=523.9,
    t=9.1,
    boundary=3.2,
    p_value=1e-6,
    boundary_p_value=0.006,
    settled=Settled.SLOWER,
)
STOP = AutoStop(
    rounds=17,
    stopped=StopReason.BUDGET,
    max_runs=60,
    margin_ms=100,
    questions=[Question("new", "old", SLOWER), Question("old+webhook", "old", None)],
)
LINES = [
    "new vs old: settled: slower, p = 1e-06 (this look's bound 0.006): +412 ms [+301, +524] "
    "over 17 rounds",
    "old+webhook vs old: budget spent: not settled (no look: fewer than 10 rounds in which "
    "both succeeded)",
]


def test_the_lines_say_each_questions_ending() -> None:
    assert shift_lines(STOP) == LINES


def test_a_comparisons_json_keeps_the_looks_and_the_lines() -> None:
    comparison = replace(_comparison(), auto_stop=STOP)
    stop = json.loads(json_export.render_comparison(comparison))["comparison"]["auto_stop"]
    assert stop["rounds"] == 17 and stop["stopped"] == "budget spent"
    assert stop["questions"][0]["look"]["settled"] == "slower"
    assert stop["questions"][0]["look"]["ci_low"] == 301.0
    assert stop["questions"][1] == {"sample": "old+webhook", "reference": "old", "look": None}
    assert stop["heading"] == "--runs auto, 17 rounds:"
    assert stop["lines"] == LINES
    # --runs N has no stopping to report.
    assert (
        json.loads(json_export.render_comparison(_comparison()))["comparison"]["auto_stop"] is None
    )


def test_markdown_lists_the_lines_under_the_headline() -> None:
    text = markdown.render_comparison(replace(_comparison(), auto_stop=STOP))
    assert "**--runs auto, 17 rounds:**" in text
    for line in LINES:
        assert f"- {line}\n" in text
    assert "--runs auto" not in markdown.render_comparison(_comparison())
    explained = markdown.render_explanation(replace(synthetic_explanation(3), auto_stop=STOP))
    assert f"- {LINES[0]}\n" in explained


def test_the_html_report_has_a_stopping_section_also_when_read_back(tmp_path: Path) -> None:
    explanation = replace(synthetic_explanation(3), auto_stop=STOP)
    html = page.render("t", [explanation_part(explanation)])
    assert "<h3>Stopping</h3>" in html and "--runs auto, 17 rounds:" in html
    assert "+412 ms [+301, +524] over 17 rounds" in html
    assert "Stopping" not in page.render("t", [explanation_part(synthetic_explanation(3))])

    export = tmp_path / "explain.json"
    export.write_text(json_export.render_explanation(explanation), encoding="utf-8")
    (part,) = read_report([export])
    assert isinstance(part, ExplanationPart)
    assert part.stopping == ["--runs auto, 17 rounds:", *LINES]


FAILED_TARGET = TargetStop(
    stopped=StopReason.SETTLED,
    max_runs=300,
    target_ms=50.0,
    min_success=0.98,
    precision=0.10,
    look=TargetLook(
        measured=3,
        succeeded=3,
        percentile=95,
        value_ms=1945.0,
        value_low=1479.0,
        value_high=None,
        success_low=0.288,
        success_high=1.0,
        settled=TargetSettled.FAIL,
    ),
)
TARGET_LINE = (
    "settled: FAIL: p95 1,945 ms [1,479, -] against 50 ms, success 3/3 [28.8%, 100.0%] "
    "against 98%, after 3 runs"
)


def test_a_runs_summary_records_how_it_stopped_and_its_exports_say_it() -> None:
    sessions = [session(number, 1500.0 + number) for number in (1, 2, 3)]
    summary = summarize_run(sessions, 50.0, auto_stop=FAILED_TARGET)
    recorded = summary.to_dict()["auto_stop"]
    assert recorded["stopped"] == "settled" and recorded["look"]["settled"] == "fail"
    assert "auto_stop" not in summarize_run(sessions, 50.0).to_dict()

    exported = json.loads(json_export.render_run("p", "lan", Path("r.json"), summary))
    assert exported["summary"]["auto_stop"]["line"] == TARGET_LINE
    text = markdown.render_run("p", "lan", Path("r.json"), summary)
    assert f"--runs auto: {TARGET_LINE}\n" in text


def test_a_gate_that_ran_with_runs_auto_says_how_it_stopped_in_every_export() -> None:
    report = replace(_report_with_failures(), auto_stop=FAILED_TARGET)
    assert f"--runs auto: {TARGET_LINE}\n" in markdown.render_gate(report)
    suite = ElementTree.fromstring(junit.render_gate(report))
    recorded = {item.get("name"): item.get("value") for item in suite.iter("property")}
    assert recorded["runs_auto"] == TARGET_LINE
    html = page.render("t", [gate_part(report)])
    assert "<h3>Stopping</h3>" in html and "p95 1,945 ms [1,479, -] against 50 ms" in html

    fixed = _report_with_failures()  # --runs N, or --results
    assert "runs_auto" not in junit.render_gate(fixed)
    assert "--runs auto" not in markdown.render_gate(fixed)
    assert "Stopping" not in page.render("t", [gate_part(fixed)])


REGRESSED = replace(
    FAILED_TARGET,
    regression=RegressionLook(
        median_ms=1945.0,
        median_low=1800.0,
        median_high=None,
        baseline_median_ms=1200.0,
        max_regression_percent=10,
        limit_low=1254.0,
        limit_high=1386.0,
        settled=RegressionSettled.REGRESSED,
    ),
)


def test_a_gate_against_a_baseline_says_where_the_regression_stands() -> None:
    assert target_line(REGRESSED) == (
        f"{TARGET_LINE}; median 1,945 ms [1,800, -] against the baseline's 1,200 ms + 10% "
        "([1,254, 1,386]): regressed"
    )
    recorded = summarize_run([session(1, 1945.0)], 50.0, auto_stop=REGRESSED).to_dict()
    assert recorded["auto_stop"]["regression"]["settled"] == "regressed"


def test_a_look_with_no_bound_yet_reads_so_and_exports_as_strict_json() -> None:
    unbounded = replace(
        SLOWER,
        pairs=10,
        ci_low=-math.inf,
        ci_high=math.inf,
        boundary=math.inf,
        settled=Settled.OPEN,
    )
    stop = replace(STOP, stopped=None, questions=[Question("new", "old", unbounded)])
    assert shift_lines(stop) == [
        "new vs old: interrupted: not settled: +412 ms [no bound yet] over 10 rounds"
    ]

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    text = json_export.render_comparison(replace(_comparison(), auto_stop=stop))
    (look,) = [
        q["look"]
        for q in json.loads(text, parse_constant=refuse)["comparison"]["auto_stop"]["questions"]
    ]
    assert (look["ci_low"], look["ci_high"], look["boundary"]) == (None, None, None)
    assert look["shift_ms"] == 412.4
