"""Rich rendering of a gate's verdict: one row per check, then the verdict and warnings."""

from typing import assert_never

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.compare import TIME_TO_QR
from qrbench.analysis.gate import GateReport, RegressionCheck, SuccessCheck
from qrbench.analysis.summary import Verdict
from qrbench.report.console.compare import caveat_lines
from qrbench.report.console.safe import sanitized
from qrbench.report.wording.gate import (
    check_measured,
    check_note,
    check_threshold,
    check_why,
    folded_line,
    gate_notes,
    headline,
    is_folded,
)


def _style(status: Verdict) -> str:
    match status:
        case Verdict.PASS:
            return "bold green"
        case Verdict.FAIL:
            return "bold red"
        case _:
            assert_never(status)


def gate_table(report: GateReport, *, verbose: bool = False) -> Table:
    """One line per check in 80 columns; the passing stage regression checks folded into
    one line unless `verbose`."""
    table = Table(
        title=f"Gate: {report.profile} on {report.scenario}; times in ms",
        title_justify="left",
        show_edge=False,
    )
    # Check names are what a reader looks up, and what the JUnit file calls the testcases.
    table.add_column("check", no_wrap=True)
    table.add_column("limit", no_wrap=True)
    table.add_column("measured", justify="right", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("note", style="dim", no_wrap=True)
    folded = [c for c in report.checks if isinstance(c, RegressionCheck) and is_folded(c)]
    if verbose:
        folded = []
    for check in report.checks:
        if check not in folded:
            table.add_row(
                check.name,
                check_threshold(check, compact=True),
                check_measured(check, unit=False),
                Text(check.status.value, style=_style(check.status)),
                check_note(check),
            )
    if folded:
        stages = [
            c for c in report.checks if isinstance(c, RegressionCheck) and c.metric != TIME_TO_QR
        ]
        name, note = folded_line(folded, others=len(folded) < len(stages))
        passed = Text(Verdict.PASS.value, style=_style(Verdict.PASS))
        table.add_row(name, check_threshold(folded[0], compact=True), "-", passed, note)
    return table


def why_lines(report: GateReport, *, verbose: bool) -> list[Text]:
    """The whole reason of each failed check (of every check when `verbose`), and of a pass
    some sessions failed in: what the table's notes shorten."""
    lines = []
    for check in report.checks:
        failures = isinstance(check, SuccessCheck) and check.succeeded < check.measured
        if verbose or failures or check.status is Verdict.FAIL:
            lines.append(Text.from_markup(f"{check.name}: {check_why(check)}"))
    return lines


def gate_report(report: GateReport, *, verbose: bool = False) -> RenderableType:
    parts: list[RenderableType] = [Text.from_markup(f"results: {report.source}", style="dim")]
    if report.baseline is not None:
        parts.append(Text.from_markup(f"baseline: {report.baseline}", style="dim"))
    parts += [Text(), gate_table(report, verbose=verbose)]
    parts += [Text.from_markup(note, style="dim") for note in gate_notes(report)]
    reasons = why_lines(report, verbose=verbose)
    if reasons:
        parts += [Text(), *reasons]
    parts.append(Text())
    status = Verdict.PASS if report.passed else Verdict.FAIL
    verdict = Text()
    verdict.append(f" {status.value} ", style=f"{_style(status)} reverse")
    verdict.append_text(Text.from_markup(f"  {headline(report)}"))
    parts.append(verdict)
    parts += caveat_lines(report.caveats)
    return Group(*parts)


def print_gate(console: Console, report: GateReport, *, verbose: bool = False) -> None:
    console.print()
    console.print(gate_report(sanitized(report), verbose=verbose))
