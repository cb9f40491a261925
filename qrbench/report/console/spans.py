"""The gateway's spans, nested under the black-box stages they start in (`run -v`)."""

from rich.table import Table

from qrbench.analysis.spans import SpanRow
from qrbench.report.wording.numbers import format_ms


def spans_table(rows: list[SpanRow]) -> Table:
    table = Table(
        title="inside the gateway: its spans (median over the sessions that had them)",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("span", no_wrap=True)
    table.add_column("in stage", style="dim")
    table.add_column("n", justify="right")
    table.add_column("starts at ms", justify="right")
    table.add_column("median ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for row in rows:
        table.add_row(
            "  " * row.depth + row.name,
            row.stage or "-",
            str(row.sessions),
            format_ms(row.start_ms),
            format_ms(row.duration.median),
            format_ms(row.duration.p95),
        )
    return table
