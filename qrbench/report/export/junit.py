"""JUnit XML of a gate: the test-report format every CI system shows natively.

One testsuite, one testcase per check; a failing check carries a `<failure>` whose
message holds what was measured against the threshold, so a CI summary that shows only
the message still says why.
"""

import xml.etree.ElementTree as ElementTree
from typing import assert_never

from qrbench.analysis.gate import GateReport
from qrbench.analysis.summary import Verdict
from qrbench.report.wording.caveats import caveat_hint, caveat_message
from qrbench.report.wording.gate import check_measured, check_threshold, check_why, headline
from qrbench.report.wording.sampling import target_line


def render_gate(report: GateReport) -> str:
    suite = ElementTree.Element(
        "testsuite",
        name=f"qrbench gate: {report.profile} on {report.scenario}",
        tests=str(len(report.checks)),
        failures=str(len(report.failed)),
        errors="0",
        skipped="0",
    )
    properties = ElementTree.SubElement(suite, "properties")
    recorded = {"results": str(report.source), "verdict": headline(report)}
    if report.baseline is not None:
        recorded["baseline"] = str(report.baseline)
    if report.auto_stop is not None:
        recorded["runs_auto"] = target_line(report.auto_stop)
    for name, value in recorded.items():
        ElementTree.SubElement(properties, "property", name=name, value=value)
    classname = f"qrbench.gate.{report.profile}.{report.scenario}"
    for check in report.checks:
        case = ElementTree.SubElement(suite, "testcase", classname=classname, name=check.name)
        details = f"measured {check_measured(check)}, threshold {check_threshold(check)}"
        match check.status:
            case Verdict.PASS:
                ElementTree.SubElement(case, "system-out").text = f"{details}: {check_why(check)}"
            case Verdict.FAIL:
                failure = ElementTree.SubElement(
                    case, "failure", message=f"{check.name}: {details}", type="GateCheckFailed"
                )
                failure.text = check_why(check)
            case _:
                assert_never(check.status)
    if report.caveats:
        ElementTree.SubElement(suite, "system-out").text = "\n".join(
            f"warning: {caveat_message(caveat)} (hint: {caveat_hint(caveat)})"
            for caveat in report.caveats
        )
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
