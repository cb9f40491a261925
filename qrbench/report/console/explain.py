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


def _knob_cell(row: ImpactRow) -> Text:
    """The knob, then what differs as `key: slow -> fast`: the one thing a reader needs
    whole, so it folds onto more lines rather than being cut."""
    cell = Text(row.knob, style="" if row.kind is RowKind.REMAINDER else "bold")
    for slow, fast in zip(row.slow_values, row.fast_values, strict=False):
        key, colon, slow_value = slow.partition(": ")
        fast_key, _, fast_value = fast.partition(": ")
        changed = (
            f"{key}: {slow_value} -> {fast_value}"
            if colon and key == fast_key
            else f"{slow} -> {fast}"
        )
        cell.append(f"\n{changed}", style="dim")
    return cell


def explanation_table(explanation: Explanation, rows: list[ImpactRow], title: str) -> Table:
    """The study's impact table: knob and its values | saving | 95 % CI | share | estimate.

    Fits 80 columns: the numbers take the few columns they need, every cell wraps on its
    words, and the knob's values fold rather than being cut."""
    with_estimates = any(row.estimate for row in rows)
    table = Table(title=title, title_justify="left", show_edge=False, collapse_padding=True)
    table.add_column("knob: slow -> fast", overflow="fold", ratio=1)
    table.add_column("saving", justify="right", min_width=12, max_width=12)
    table.add_column("95 % CI", justify="right", min_width=9, max_width=9)
    table.add_column("share", justify="right", no_wrap=True)
    if with_estimates:
        table.add_column("est.", justify="right", no_wrap=True)
    for row in rows:
        if row.kind is RowKind.REMAINDER:
            table.add_section()
        cells: list[Text | str] = [_knob_cell(row), _saving_cell(row), row.ci, row.share]
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
