"""A capacity ramp: a row per step, its time-to-QR percentile against the target and its
memory per session, the knee marked (marks: `capacity-step`, `capacity-p95`,
`capacity-memory`, `knee-marker`, `target-line`)."""

from collections.abc import Callable

from qrbench.capacity_results import SavedCapacity, SavedStep
from qrbench.report.html.palette import AXIS_HEIGHT, LABEL_WIDTH, RIGHT_MARGIN, WIDTH, target_line
from qrbench.report.html.svg import Scale, axis, element, nice_scale, svg, text, tooltip
from qrbench.report.wording.numbers import format_ms

_ROW = 26
_TOP = 10
_MEETS, _MISSES, _KNEE = "#009e73", "#d55e00", "#000000"


def step_label(step: SavedStep) -> str:
    return f"step {step.number}: {step.capacity:g} {step.unit.value}"


def percentile_chart(ramp: SavedCapacity) -> str:
    """Each step's p-th percentile time-to-QR as a bar, the target as a line."""
    highest = max([ramp.target_ms, *(s.percentile_ms or 0.0 for s in ramp.step_rows)])
    scale = nice_scale(0.0, highest, LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    bottom = _TOP + _ROW * len(ramp.step_rows)

    def bar(step: SavedStep) -> tuple[float | None, str]:
        shown = (
            "no successful session"
            if step.percentile_ms is None
            else (f"{format_ms(step.percentile_ms)} ms")
        )
        verdict = "meets the criterion" if step.meets else "breaks the criterion"
        return step.percentile_ms, f"p{ramp.percentile:g} {shown}, {verdict}"

    rows = _rows(ramp, scale, bar, "capacity-p95")
    target = target_line(scale(ramp.target_ms), _TOP - 4, bottom, ramp.target_ms)
    content = axis(scale, bottom, "ms", grid_to=_TOP) + rows + target
    label = f"p{ramp.percentile:g} time-to-QR per step against the target"
    return svg(WIDTH, bottom + AXIS_HEIGHT, content, css_class="chart capacity", label=label)


def memory_chart(ramp: SavedCapacity) -> str:
    """Each step's Chromium memory per session in flight at its peak (PSS, else RSS)."""
    highest = max([1.0, *(s.per_session_mb or 0.0 for s in ramp.step_rows)])
    scale = nice_scale(0.0, highest, LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    bottom = _TOP + _ROW * len(ramp.step_rows)

    def bar(step: SavedStep) -> tuple[float | None, str]:
        if step.per_session_mb is None:
            return None, "not measured (browsers on another machine)"
        return step.per_session_mb, f"{step.per_session_mb:,.0f} MB per session"

    rows = _rows(ramp, scale, bar, "capacity-memory")
    content = axis(scale, bottom, "MB", grid_to=_TOP) + rows
    label = "Chromium memory per session in flight, per step"
    return svg(WIDTH, bottom + AXIS_HEIGHT, content, css_class="chart capacity", label=label)


def _rows(
    ramp: SavedCapacity,
    scale: Scale,
    bar: Callable[[SavedStep], tuple[float | None, str]],
    mark: str,
) -> str:
    knee = None if ramp.knee is None else ramp.knee.step
    parts = []
    for index, step in enumerate(ramp.step_rows):
        y = _TOP + _ROW * index
        value, described = bar(step)
        is_knee = step.number == knee
        label = step_label(step) + (" (knee)" if is_knee else "")
        row = [
            element(
                "text",
                {"class": "row-label", "x": LABEL_WIDTH - 8, "y": y + 17, "text-anchor": "end"},
                text(label),
            )
        ]
        if value is None:
            row.append(
                element(
                    "text", {"class": "no-data", "x": LABEL_WIDTH, "y": y + 17}, text(described)
                )
            )
        else:
            colour = _KNEE if is_knee else _MEETS if step.meets else _MISSES
            row.append(
                element(
                    "rect",
                    {
                        "class": f"{mark}{'' if step.meets else ' misses'}",
                        "x": scale(0.0),
                        "y": y + 6.0,
                        "width": max(scale(value) - scale(0.0), 1.0),
                        "height": 14,
                        "fill": colour,
                    },
                    tooltip(f"{step_label(step)}: {described}"),
                )
            )
            if is_knee:
                row.append(
                    element(
                        "text",
                        {"class": "knee-marker", "x": scale(value) + 6, "y": y + 17},
                        text("knee"),
                    )
                )
        parts.append(
            element("g", {"class": "capacity-step", "data-step": step.number}, "".join(row))
        )
    return "".join(parts)
