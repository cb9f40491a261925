"""Rich rendering of a comparison: profiles side by side, each against the reference."""

from collections.abc import Sequence
from typing import assert_never

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.caveats import Caveat
from qrbench.analysis.compare import Comparison, MetricComparison
from qrbench.analysis.stats import Difference, MetricSummary, Significance
from qrbench.report.console.safe import sanitized
from qrbench.report.wording.caveats import grouped_warnings
from qrbench.report.wording.compare import (
    describe_success,
    headlines,
    marked_name,
    short_difference,
    short_fisher,
    short_p_value,
    short_success_difference,
    table_notes,
)
from qrbench.report.wording.numbers import format_ms


def significance_style(significance: Significance) -> str:
    match significance:
        case Significance.SLOWER:
            return "bold red"
        case Significance.FASTER:
            return "bold green"
        case Significance.NOT_SIGNIFICANT:
            return "dim"
        case Significance.TOO_FEW_RUNS:
            return "yellow"
        case _:
            assert_never(significance)


def _difference_cell(found: Difference | None) -> Text:
    if found is None:
        return Text("-", style="dim")
    return Text(short_difference(found), style=significance_style(found.significance))


def _median_cell(summary: MetricSummary | None, *, with_p95: bool) -> str:
    if summary is None:
        return "-"
    median = format_ms(summary.median)
    return f"{median} / {format_ms(summary.p95)}" if with_p95 else median


def _metric_cells(
    metric: MetricComparison, comparison: Comparison, *, pair: bool
) -> list[Text | str]:
    cells: list[Text | str] = []
    for label in comparison.labels:
        cells.append(_median_cell(metric.summaries[label], with_p95=pair))
        if label != comparison.reference:
            cells.append(_difference_cell(metric.differences[label]))
    if pair:
        cells.append(short_p_value(metric.differences[_other(comparison)]))
    return cells


def _pair(comparison: Comparison) -> bool:
    return len(comparison.labels) == 2


def _other(comparison: Comparison) -> str:
    """The one label compared with the reference, in a comparison of two."""
    (other,) = (label for label in comparison.labels if label != comparison.reference)
    return other


def comparison_table(comparison: Comparison) -> Table:
    """One line per metric in 80 columns: two profiles get median / p95 and the p value
    that decided; more get medians only. What the cells mean is in `table_notes`."""
    reference = comparison.reference
    pair = _pair(comparison)
    table = Table(
        title=f"Compared with {reference} (reference); "
        + ("median / p95 ms" if pair else "median ms"),
        title_justify="left",
        show_edge=False,
    )
    # Rows never wrap: every cell is short, and its caveats are said once below the table.
    # Stage names are what the reader looks up: other columns shrink first.
    names = [marked_name(stage) for stage in comparison.stages]
    table.add_column("metric", no_wrap=True, min_width=max(map(len, names), default=0))
    for label in comparison.labels:
        table.add_column(label, justify="right", no_wrap=True)
        if label != reference:
            # Not `vs LABEL`: a long label twice over would not fit three profiles in 80.
            table.add_column("vs ref", no_wrap=True)
    if pair:
        table.add_column("p", justify="right", no_wrap=True)
    for stage in comparison.stages:
        table.add_row(marked_name(stage), *_metric_cells(stage, comparison, pair=pair))
    table.add_section()
    time_to_qr = comparison.time_to_qr
    table.add_row(
        Text(time_to_qr.name, style="bold"), *_metric_cells(time_to_qr, comparison, pair=pair)
    )
    success_cells: list[Text | str] = []
    reference_rate = comparison.success[reference]
    for label in comparison.labels:
        rate = comparison.success[label]
        success_cells.append(
            describe_success(rate) if pair else f"{rate.succeeded}/{rate.measured}"
        )
        if label != reference:
            success_cells.append(short_success_difference(rate, reference_rate))
    if pair:
        fisher = comparison.success[_other(comparison)].p_value
        success_cells.append("-" if fisher is None else short_fisher(fisher))
    table.add_row(Text("success rate", style="bold"), *success_cells)
    return table


def failures_table(comparison: Comparison) -> Table | None:
    if not any(comparison.failures.values()):
        return None
    table = Table(title="Failures", title_justify="left", show_edge=False)
    for column in ("profile", "stage", "error"):
        table.add_column(column)
    table.add_column("count", justify="right")
    table.add_column("example")
    for label, failures in comparison.failures.items():
        for failure in failures:
            table.add_row(label, failure.stage, failure.type, str(failure.count), failure.example)
    return table


def comparison_report(comparison: Comparison) -> RenderableType:
    parts: list[RenderableType] = [
        Text.from_markup(f"{label}: {source}", style="dim")
        for label, source in comparison.sources.items()
    ]
    parts += [Text(), comparison_table(comparison)]
    parts += [
        Text.from_markup(note, style="dim")
        for note in table_notes(comparison, p_column=_pair(comparison))
    ]
    parts.append(Text())
    parts += [
        Text.from_markup(headline, style="bold") for headline in headlines(comparison).values()
    ]
    failures = failures_table(comparison)
    if failures is not None:
        parts += [Text(), failures]
    parts += caveat_lines(comparison.caveats)
    return Group(*parts)


def caveat_lines(caveats: Sequence[Caveat]) -> list[Text]:
    """A warning and its hint per caveat (one for several runs where it says the same of
    each), after a blank line; nothing without caveats."""
    lines = [Text()] if caveats else []
    for message, hint in grouped_warnings(caveats):
        lines.append(Text.from_markup(f"warning: {message}", style="yellow"))
        lines.append(Text.from_markup(f"  hint: {hint}", style="dim"))
    return lines


def print_comparison(console: Console, comparison: Comparison) -> None:
    console.print(comparison_report(sanitized(comparison)))
