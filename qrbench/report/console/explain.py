"""Rich rendering of an explanation: the study's impact table, measured."""

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.explain.attribution import DirectionEffects, Explanation
from qrbench.report.console.compare import caveat_lines, significance_style
from qrbench.report.wording.explain import (
    ImpactRow,
    RowKind,
    direction_title,
    explanation_headline,
    impact_rows,
)


def _saving_cell(row: ImpactRow) -> Text:
    # The verdict under the number, as `compare` puts its evidence under the ratio.
    style = "" if row.significance is None else significance_style(row.significance)
    cell = Text(row.saving, style=style)
    cell.append(f"\n{row.verdict}", style="dim")
    return cell


def explanation_table(explanation: Explanation, rows: list[ImpactRow], title: str) -> Table:
    """The study's impact table: knob | slow value | fast value | saving | 95 % CI | share."""
    with_estimates = any(row.estimate for row in rows)
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("knob", no_wrap=True)
    table.add_column("slow value")
    table.add_column("fast value")
    table.add_column("measured saving", justify="right")
    table.add_column("95 % CI", justify="right")
    table.add_column("share", justify="right")
    if with_estimates:
        table.add_column("estimated", justify="right")
    for row in rows:
        if row.kind is RowKind.REMAINDER:
            table.add_section()
        cells: list[Text | str] = [
            Text(row.knob, style="" if row.kind is RowKind.REMAINDER else "bold"),
            "\n".join(row.slow_values),
            "\n".join(row.fast_values),
            _saving_cell(row),
            row.ci,
            row.share,
        ]
        table.add_row(*cells, *([row.estimate] if with_estimates else []))
    return table


def _details(rows: list[ImpactRow]) -> list[Text]:
    """What each group moved, and each estimate set against its measurement."""
    groups = [row for row in rows if row.kind is RowKind.GROUP]
    lines = [Text("stages moved:", style="bold")]
    lines += [
        Text(f"  {row.knob}: {', '.join(row.stages) or 'none significantly'}") for row in groups
    ]
    estimated = [row for row in groups if row.estimate_sentence]
    if estimated:
        lines.append(Text("estimates:", style="bold"))
    for row in estimated:
        line = Text(f"  {row.knob}: {row.estimate_sentence}")
        if row.estimate_note:
            line.append(f" ({row.estimate_note})", style="dim")
        lines.append(line)
    return lines


def _direction(explanation: Explanation, effects: DirectionEffects) -> list[RenderableType]:
    rows = impact_rows(explanation, effects)
    title = direction_title(effects, explanation)
    return [Text(), explanation_table(explanation, rows, title), *_details(rows)]


def explanation_report(explanation: Explanation) -> RenderableType:
    parts: list[RenderableType] = [
        Text(f"{label}: {source}", style="dim") for label, source in explanation.sources.items()
    ]
    parts += [Text(), Text(explanation_headline(explanation), style="bold")]
    for effects in explanation.directions:
        parts += _direction(explanation, effects)
    if explanation.estimates_source is not None:
        parts.append(Text(f"estimates from {explanation.estimates_source}", style="dim"))
    parts += caveat_lines(explanation.caveats)
    return Group(*parts)


def print_explanation(console: Console, explanation: Explanation) -> None:
    console.print(explanation_report(explanation))
