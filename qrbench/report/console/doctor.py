"""`qrbench doctor` on screen: a line per check, its fix under it, the verdict last."""

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qrbench.measure.doctor import Diagnosis, Status
from qrbench.report.wording.doctor import fix, mark, verdict

_STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.SKIPPED: "dim"}


def print_diagnosis(console: Console, diagnosis: Diagnosis) -> None:
    table = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("found", overflow="fold")
    for check in diagnosis.checks:
        style = _STYLES[check.status] if check.needed or check.status is not Status.FAIL else "dim"
        found = escape(check.found)
        advice = fix(check)
        if advice and advice != check.found:
            found += f"\n[dim]fix: {escape(advice)}[/dim]"
        table.add_row(check.name.value, f"[{style}]{mark(check)}[/{style}]", found)
    console.print(table)
    style = "green" if diagnosis.ready else "red"
    console.print(f"[{style}]{escape(verdict(diagnosis))}[/{style}]")
