"""Rich rendering of a gate's verdict: one row per check, then the verdict and warnings."""

from typing import assert_never

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.gate import GateReport
from qrbench.analysis.summary import Verdict
from qrbench.report.console.compare import caveat_lines
from qrbench.report.console.safe import sanitized
from qrbench.report.wording.gate import check_measured, check_threshold, check_why, headline


def _style(status: Verdict) -> str:
    match status:
        case Verdict.PASS:
            return "bold green"
        case Verdict.FAIL:
            return "bold red"
        case _:
            assert_never(status)


def gate_table(report: GateReport) -> Table:
    table = Table(
        title=f"Gate: {report.profile} on {report.scenario}",
        title_justify="left",
        show_edge=False,
    )
    # Check names are what a reader looks up, and what the JUnit file calls the testcases.
    table.add_column("check", no_wrap=True)
    table.add_column("threshold")
    table.add_column("measured", justify="right")
    table.add_column("result")
    table.add_column("why", style="dim")
    for check in report.checks:
        table.add_row(
            check.name,
            check_threshold(check),
            check_measured(check),
            Text(check.status.value, style=_style(check.status)),
            check_why(check),
        )
    return table


def gate_report(report: GateReport) -> RenderableType:
    parts: list[RenderableType] = [Text.from_markup(f"results: {report.source}", style="dim")]
    if report.baseline is not None:
        parts.append(Text.from_markup(f"baseline: {report.baseline}", style="dim"))
    parts += [Text(), gate_table(report), Text()]
    status = Verdict.PASS if report.passed else Verdict.FAIL
    verdict = Text()
    verdict.append(f" {status.value} ", style=f"{_style(status)} reverse")
    verdict.append_text(Text.from_markup(f"  {headline(report)}"))
    parts.append(verdict)
    parts += caveat_lines(report.caveats)
    return Group(*parts)


def print_gate(console: Console, report: GateReport) -> None:
    console.print()
    console.print(gate_report(sanitized(report)))
