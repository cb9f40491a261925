"""Explain's attribution: a bar per knob group with its CI, the remainder and the total
gap (marks: `attribution-bar`)."""

from collections.abc import Sequence

from qrbench.analysis.explain.attribution import DirectionEffects, Explanation
from qrbench.report.html.model import AttributionBar
from qrbench.report.html.palette import RIGHT_MARGIN, WIDTH
from qrbench.report.html.svg import (
    Scale,
    axis,
    element,
    nice_scale,
    number,
    svg,
    text,
    tooltip,
)
from qrbench.report.wording.explain import RowKind, impact_rows
from qrbench.report.wording.numbers import format_change_ms

# --- explain's attribution -------------------------------------------------------------

_BAR_ROW = 28
_ATTRIBUTION_LABEL_WIDTH = 230
_BAR_COLOURS = {RowKind.GROUP: "#0072b2", RowKind.REMAINDER: "#999999", RowKind.TOTAL: "#000000"}


def attribution_bars(explanation: Explanation, effects: DirectionEffects) -> list[AttributionBar]:
    """A bar per row of the impact table (`wording.explain.impact_rows`): each group, the
    interaction remainder, the total gap."""
    rows = impact_rows(explanation, effects)
    groups = effects.groups
    bars = []
    for effect, row in zip(groups, rows[: len(groups)], strict=True):
        found = effect.saving
        bars.append(
            AttributionBar(
                label=effect.title,
                kind=RowKind.GROUP,
                saving_ms=None if found is None else found.value_ms,
                ci_low_ms=None if found is None else found.ci_low_ms,
                ci_high_ms=None if found is None else found.ci_high_ms,
                estimate_ms=None if effect.estimate is None else effect.estimate.saving_ms,
                verdict=row.verdict,
            )
        )
    remainder = effects.remainder
    bars.append(
        AttributionBar(
            label="interaction remainder",
            kind=RowKind.REMAINDER,
            saving_ms=None if remainder is None else remainder.value_ms,
            ci_low_ms=None if remainder is None else remainder.ci_low_ms,
            ci_high_ms=None if remainder is None else remainder.ci_high_ms,
            estimate_ms=None,
            verdict=rows[len(groups)].verdict,
        )
    )
    total = explanation.total
    if total is not None:
        bars.append(
            AttributionBar(
                label="total gap",
                kind=RowKind.TOTAL,
                saving_ms=total.value_ms,
                ci_low_ms=total.ci_low_ms,
                ci_high_ms=total.ci_high_ms,
                estimate_ms=None,
                verdict=rows[-1].verdict,
            )
        )
    return bars


def attribution(bars: Sequence[AttributionBar], title: str) -> str:
    """Each group's measured saving as a bar from 0 (right: faster) with its 95 % CI as a
    whisker, the study's estimate as a hollow diamond beside it; the remainder and the
    total gap below, in grey and black."""
    values = [0.0]
    for bar in bars:
        values += [
            v
            for v in (bar.saving_ms, bar.ci_low_ms, bar.ci_high_ms, bar.estimate_ms)
            if v is not None
        ]
    scale = nice_scale(min(values), max(values), _ATTRIBUTION_LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    top = 8
    bottom = top + len(bars) * _BAR_ROW
    parts = [axis(scale, bottom + 4, "ms", grid_to=top)]
    for index, bar in enumerate(bars):
        parts.append(_attribution_row(bar, top + index * _BAR_ROW, scale))
    zero = scale(0.0)
    parts.append(
        element("line", {"class": "zero-line", "x1": zero, "x2": zero, "y1": 4.0, "y2": bottom})
    )
    parts.append(
        element(
            "text",
            {
                "class": "axis-title",
                "x": WIDTH - RIGHT_MARGIN,
                "y": bottom + 44,
                "text-anchor": "end",
            },
            text("time-to-QR saved by the fast values (right: faster, left: slower)"),
        )
    )
    return svg(WIDTH, bottom + 52, "".join(parts), css_class="chart attribution", label=title)


def _attribution_row(bar: AttributionBar, y: float, scale: Scale) -> str:
    parts = [
        element(
            "text",
            {
                "class": "row-label",
                "x": _ATTRIBUTION_LABEL_WIDTH - 8,
                "y": y + 17,
                "text-anchor": "end",
            },
            text(bar.label),
        )
    ]
    if bar.saving_ms is None:
        parts.append(
            element(
                "text",
                {"class": "no-data", "x": _ATTRIBUTION_LABEL_WIDTH, "y": y + 17},
                text("no saving: a side had no successful session"),
            )
        )
    else:
        zero, end = scale(0.0), scale(bar.saving_ms)
        described = f"{bar.label}: {format_change_ms(bar.saving_ms)}"
        if bar.ci_low_ms is not None and bar.ci_high_ms is not None:
            described += (
                f" (95 % CI {format_change_ms(bar.ci_high_ms)} to "
                f"{format_change_ms(bar.ci_low_ms)})"
            )
        if bar.verdict:
            described += f", {bar.verdict}"
        parts.append(
            element(
                "rect",
                {
                    "class": f"attribution-bar {bar.kind.value}",
                    "x": min(zero, end),
                    "y": y + 6.0,
                    "width": max(abs(end - zero), 1.0),
                    "height": 14,
                    "fill": _BAR_COLOURS[bar.kind],
                },
                tooltip(described),
            )
        )
        if bar.ci_low_ms is not None and bar.ci_high_ms is not None:
            low, high, middle = scale(bar.ci_low_ms), scale(bar.ci_high_ms), y + 13.0
            whisker = (
                f"M{number(low)},{number(middle)} H{number(high)} "
                f"M{number(low)},{number(middle - 5)} V{number(middle + 5)} "
                f"M{number(high)},{number(middle - 5)} V{number(middle + 5)}"
            )
            parts.append(element("path", {"class": "attribution-ci", "d": whisker}))
    if bar.estimate_ms is not None:
        x, middle = scale(bar.estimate_ms), y + 13.0
        diamond = (
            f"M{number(x)},{number(middle - 7)} L{number(x + 6)},{number(middle)} "
            f"L{number(x)},{number(middle + 7)} L{number(x - 6)},{number(middle)} Z"
        )
        parts.append(
            element(
                "path",
                {"class": "estimate-mark", "d": diamond},
                tooltip(f"{bar.label}: the study's estimate {format_change_ms(bar.estimate_ms)}"),
            )
        )
    return element("g", {"class": f"attribution-row {bar.kind.value}"}, "".join(parts))
