"""JUnit XML of a gate: what CI systems parse to show failed checks."""

import xml.etree.ElementTree as ElementTree

import numpy as np

from qrbench.analysis.gate import GateReport, judge
from qrbench.analysis.thresholds import ThresholdOverrides, parse_overrides
from qrbench.report.export import junit
from qrbench.report.wording.gate import check_measured, check_threshold, check_why
from tests.helpers import draw, saved


def _report_with_failures() -> GateReport:
    rng = np.random.default_rng(31)
    current = saved("new", [*draw(rng, 4000, 9), None])
    baseline = saved("old", draw(rng, 1100, 10), environment={"chromium": "Chromium 1 <old>"})
    tight = parse_overrides(target="3s", percentile=None, min_success=None, max_regression=None)
    return judge(current, tight, baseline)


def test_one_testcase_per_check_and_a_failure_on_each_failed_one() -> None:
    report = _report_with_failures()
    suite = ElementTree.fromstring(junit.render_gate(report))
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [check.name for check in report.checks]
    assert suite.get("tests") == str(len(report.checks))
    failed = {case.get("name"): case.find("failure") for case in cases}
    expected_failed = {check.name for check in report.failed}
    assert expected_failed >= {"time-to-QR p95", "success rate", "regression time-to-QR"}
    assert {name for name, failure in failed.items() if failure is not None} == expected_failed
    assert suite.get("failures") == str(len(expected_failed))
    for check in report.failed:
        failure = failed[check.name]
        assert failure is not None
        assert failure.get("message") == (
            f"{check.name}: measured {check_measured(check)}, threshold {check_threshold(check)}"
        )
        assert failure.text == check_why(check)


def test_warnings_and_sources_survive_escaping() -> None:
    report = _report_with_failures()
    suite = ElementTree.fromstring(junit.render_gate(report))
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["results"] == "new.json"
    assert properties["baseline"] == "old.json"
    assert properties["verdict"].startswith("gate FAILED:")
    suite_output = suite.find("system-out")
    assert suite_output is not None and suite_output.text is not None
    assert "Chromium 1 <old>" in suite_output.text


def test_a_passing_gate_has_no_failure_elements() -> None:
    report = judge(saved("optimized", [1000.0, 1100.0, 1200.0]), ThresholdOverrides(), None)
    suite = ElementTree.fromstring(junit.render_gate(report))
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "0"
    assert suite.find(".//failure") is None
