"""Rich rendering of a comparison: profiles side by side, each against the reference."""

from collections.abc import Sequence
from typing import assert_never

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.caveats import Caveat
from qrbench.analysis.compare import Comparison, MetricComparison
from qrbench.analysis.stats import Difference, Significance
from qrbench.report.console.safe import sanitized
from qrbench.report.wording.caveats import caveat_hint, caveat_message
from qrbench.report.wording.compare import (
    describe_kind,
    describe_success,
    describe_success_difference,
    evidence,
    headlines,
    ratio_phrase,
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
    cell = Text(ratio_phrase(found), style=significance_style(found.significance))
    cell.append(f"\n{evidence(found)}", style="dim")
    return cell


def _metric_cells(metric: MetricComparison, comparison: Comparison) -> list[Text | str]:
    cells: list[Text | str] = []
    for label in comparison.labels:
        summary = metric.summaries[label]
        cells.append(
            "-" if summary is None else f"{format_ms(summary.median)} / {format_ms(summary.p95)}"
        )
        if label != comparison.reference:
            cells.append(_difference_cell(metric.differences[label]))
    return cells


def comparison_table(comparison: Comparison) -> Table:
    table = Table(
        title=f"Compared with {comparison.reference} (reference); times in ms",
        title_justify="left",
        show_edge=False,
    )
    # Stage names are what the reader looks up; wrap the ratios instead.
    names = [stage.name for stage in comparison.stages]
    table.add_column("metric", no_wrap=True, min_width=max(map(len, names), default=0))
    table.add_column("kind", style="dim")
    for label in comparison.labels:
        # One column for both keeps three profiles readable in 120 columns.
        table.add_column(f"{label}\nmedian / p95", justify="right")
        if label != comparison.reference:
            table.add_column(f"{label} vs\n{comparison.reference}")
    for stage in comparison.stages:
        table.add_row(stage.name, describe_kind(stage), *_metric_cells(stage, comparison))
    table.add_section()
    time_to_qr = comparison.time_to_qr
    table.add_row(
        Text(time_to_qr.name, style="bold"),
        describe_kind(time_to_qr),
        *_metric_cells(time_to_qr, comparison),
    )
    success_cells: list[Text | str] = []
    reference_rate = comparison.success[comparison.reference]
    for label in comparison.labels:
        rate = comparison.success[label]
        success_cells.append(describe_success(rate))
        if label != comparison.reference:
            success_cells.append(describe_success_difference(rate, reference_rate))
    table.add_row(Text("success rate", style="bold"), "", *success_cells)
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
    parts += [Text(), comparison_table(comparison), Text()]
    parts += [
        Text.from_markup(headline, style="bold") for headline in headlines(comparison).values()
    ]
    failures = failures_table(comparison)
    if failures is not None:
        parts += [Text(), failures]
    parts += caveat_lines(comparison.caveats)
    return Group(*parts)


def caveat_lines(caveats: Sequence[Caveat]) -> list[Text]:
    """A warning and its hint per caveat, after a blank line; nothing without caveats."""
    lines = [Text()] if caveats else []
    for caveat in caveats:
        lines.append(Text.from_markup(f"warning: {caveat_message(caveat)}", style="yellow"))
        lines.append(Text.from_markup(f"  hint: {caveat_hint(caveat)}", style="dim"))
    return lines


def print_comparison(console: Console, comparison: Comparison) -> None:
    console.print(comparison_report(sanitized(comparison)))
