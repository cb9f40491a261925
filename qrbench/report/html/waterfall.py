"""The stage waterfall: a row per session, a bar per stage on the session's clock, the
failed stage marked, a traced gateway's spans under its stages (marks: `waterfall-row`,
`stage-bar`, `span-bar`, `target-line`)."""

from qrbench.analysis.spans import with_depths
from qrbench.records import SessionResult
from qrbench.report.html.model import RunData
from qrbench.report.html.palette import (
    AXIS_HEIGHT,
    LABEL_WIDTH,
    RIGHT_MARGIN,
    WIDTH,
    stage_colour,
    target_line,
)
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
from qrbench.report.wording.numbers import format_ms, format_seconds

_ROW = 26
_CRITICAL_HEIGHT = 12
_BACKGROUND_HEIGHT = 6
_TOP = 22
# A gateway's spans: a thin bar each, one line per nesting depth under the stage lanes.
_SPAN_HEIGHT = 3
_SPAN_STEP = 4
_SPAN_COLOUR = "#7a7a7a"


def _session_end_ms(session: SessionResult) -> float:
    ends = [stage.end_ms for stage in session.stages]
    ends += [span.end_ms for span in session.spans]
    if session.error is not None:
        ends.append(session.error.elapsed_ms)
    if session.time_to_qr_ms is not None:
        ends.append(session.time_to_qr_ms)
    return max(ends, default=0.0)


def waterfall(run: RunData) -> str:
    """One row per drawn session (`sampling`), on the session's clock: critical stages in
    the upper lane, background stages in the thinner lower one; a failed session is marked
    where it failed and labelled with its stage; the target is a dashed line."""
    sessions = run.sessions
    # The sessions' own span: stages of a 1 s session stay readable beside a 10 s target,
    # which the ECDF places; here it is a line only when it falls within that span.
    largest = max((_session_end_ms(session) for session in sessions), default=run.target_ms)
    scale = nice_scale(0.0, largest, LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    heights = [_row_height(session) for session in sessions]
    traced = any(session.spans for session in sessions)
    rows_bottom = _TOP + sum(heights)
    # The axis and its grid first: drawn beneath the marks.
    parts = [
        axis(scale, rows_bottom + 4, "ms", grid_to=_TOP),
        element(
            "text",
            {"class": "lane-note", "x": LABEL_WIDTH, "y": 12},
            text(
                "upper lane: critical stages (time-to-QR); lower lane: background stages"
                + ("; grey: the gateway's spans, by depth" if traced else "")
            ),
        ),
    ]
    y = float(_TOP)
    roles = run.roles or {}
    for session, height in zip(sessions, heights, strict=True):
        parts.append(_waterfall_row(session, roles.get(session.number), y, scale))
        y += height
    if run.target_ms <= scale.high:
        parts.append(target_line(scale(run.target_ms), _TOP - 4, rows_bottom, run.target_ms))
    else:
        parts.append(
            element(
                "text",
                {"class": "target-note", "x": scale.end, "y": 12.0, "text-anchor": "end"},
                text(f"target {format_seconds(run.target_ms)}: beyond this axis"),
            )
        )
    height = rows_bottom + AXIS_HEIGHT
    label = f"stage waterfall of {len(sessions)} sessions of {run.label}"
    return svg(WIDTH, height, "".join(parts), css_class="chart waterfall", label=label)


def _row_height(session: SessionResult) -> int:
    depths = [depth for _, depth in with_depths(session.spans)]
    return _ROW + (max(depths) + 1) * _SPAN_STEP if depths else _ROW


def _span_bars(session: SessionResult, y: float, scale: Scale) -> list[str]:
    """The gateway's spans below the row's stage lanes, a line per depth."""
    top = y + _ROW - 4
    bars = []
    for span, depth in with_depths(session.spans):
        x = scale(span.start_ms)
        bars.append(
            element(
                "rect",
                {
                    "class": "span-bar" + ("" if span.ok else " failed"),
                    "data-span": span.name,
                    "data-depth": depth,
                    "x": x,
                    "y": top + depth * _SPAN_STEP,
                    "width": max(scale(span.end_ms) - x, 1.0),
                    "height": _SPAN_HEIGHT,
                    "fill": _SPAN_COLOUR,
                },
                tooltip(
                    f"#{session.number} span {span.name} ({span.service}"
                    f"{'' if span.stage is None else ', in ' + span.stage}): "
                    f"{format_ms(span.duration_ms)} ms from {format_ms(span.start_ms)} ms"
                ),
            )
        )
    return bars


def _waterfall_row(session: SessionResult, role: str | None, y: float, scale: Scale) -> str:
    error = session.error
    name = f"#{session.number}" + ("" if role is None else f" {role}")
    if not session.ok:
        name += " failed" if error is None else f" failed in {error.stage}"
    parts = [
        element(
            "text",
            {"class": "row-label", "x": LABEL_WIDTH - 8, "y": y + 11, "text-anchor": "end"},
            text(name),
        )
    ]
    for stage in session.stages:
        lane = y if stage.critical else y + _CRITICAL_HEIGHT + 2
        kind = "critical" if stage.critical else "background"
        x = scale(stage.start_ms)
        classes = f"stage-bar {kind}" + ("" if stage.ok else " failed")
        parts.append(
            element(
                "rect",
                {
                    "class": classes,
                    "data-stage": stage.name,
                    "x": x,
                    "y": float(lane),
                    "width": max(scale(stage.end_ms) - x, 1.0),
                    "height": _CRITICAL_HEIGHT if stage.critical else _BACKGROUND_HEIGHT,
                    "fill": stage_colour(stage.name),
                },
                tooltip(
                    f"#{session.number} {stage.name} ({kind}{'' if stage.ok else ', failed'}): "
                    f"{format_ms(stage.duration_ms)} ms from {format_ms(stage.start_ms)} ms"
                ),
            )
        )
    parts += _span_bars(session, y, scale)
    if session.ok and session.time_to_qr_ms is not None:
        x = scale(session.time_to_qr_ms)
        parts.append(
            element(
                "line",
                {"class": "ttq-mark", "x1": x, "x2": x, "y1": y - 2.0, "y2": y + 14.0},
                tooltip(f"#{session.number} time-to-QR {format_ms(session.time_to_qr_ms)} ms"),
            )
        )
    if error is not None:
        x = scale(error.elapsed_ms)
        cross = (
            f"M{number(x - 5)},{number(y + 1)} L{number(x + 5)},{number(y + 11)} "
            f"M{number(x - 5)},{number(y + 11)} L{number(x + 5)},{number(y + 1)}"
        )
        parts.append(
            element(
                "path",
                {"class": "failure-mark", "d": cross},
                tooltip(
                    f"#{session.number} failed in {error.stage} after "
                    f"{format_ms(error.elapsed_ms)} ms: {error.type}: {error.message}"
                ),
            )
        )
    classes = "waterfall-row" + ("" if session.ok else " failed")
    return element("g", {"class": classes, "data-session": session.number}, "".join(parts))
