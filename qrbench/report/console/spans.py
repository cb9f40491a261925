"""The spans (the replica page's work, a traced gateway's), with the stages they start in
(`run -v`)."""

from rich.table import Table

from qrbench.analysis.spans import SpanRow
from qrbench.report.wording.numbers import format_ms

# What the other columns and the rules between them take; a span's name gets the rest.
_OTHER_COLUMNS_WIDTH = 48
_NAME_MIN_WIDTH = 20


def spans_table(rows: list[SpanRow], width: int) -> Table:
    """The rows as a table `width` columns wide at most."""
    table = Table(
        title="inside the page and the gateway: spans (median over the sessions that had them)",
        title_justify="left",
        show_edge=False,
    )
    # The numbers whole on a narrow terminal: a long span name gives way, not them.
    name_width = max(_NAME_MIN_WIDTH, width - _OTHER_COLUMNS_WIDTH)
    table.add_column("span", no_wrap=True, overflow="ellipsis", max_width=name_width)
    table.add_column("stage", style="dim", no_wrap=True)
    for heading in ("n", "start ms", "median ms", "p95 ms"):
        table.add_column(heading, justify="right", no_wrap=True)
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
