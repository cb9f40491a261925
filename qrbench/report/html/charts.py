"""The report's charts, each an SVG string: marks carry a class per kind (`waterfall-row`,
`stage-bar`, `strip-dot`, `ecdf-step`, `target-line`, `p95-marker`, `attribution-bar`,
...) so that a test, or a reader's stylesheet, can find and count them."""

from collections.abc import Sequence

import numpy as np

from qrbench.analysis.explain.attribution import DirectionEffects, Explanation
from qrbench.analysis.stats import summarize
from qrbench.records import SessionResult, Stage
from qrbench.report.html.model import AttributionBar, RunData
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
from qrbench.report.wording.numbers import format_change_ms, format_ms, format_seconds

WIDTH = 860
LABEL_WIDTH = 190
RIGHT_MARGIN = 30
AXIS_HEIGHT = 30

# One colour per stage, in path order (Okabe-Ito first: told apart with colour blindness).
_STAGE_COLOURS = dict(
    zip(
        [stage.value for stage in Stage],
        [
            "#999999",
            "#e69f00",
            "#56b4e9",
            "#009e73",
            "#0072b2",
            "#d55e00",
            "#cc79a7",
            "#f0e442",
            "#882255",
            "#44aa99",
            "#332288",
            "#aa4499",
            "#117733",
        ],
        strict=True,
    )
)
_UNKNOWN_STAGE_COLOUR = "#bbbbbb"
RUN_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]


def stage_colour(name: str) -> str:
    return _STAGE_COLOURS.get(name, _UNKNOWN_STAGE_COLOUR)


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def stage_order(names: Sequence[str]) -> list[str]:
    """Known stages in path order, then any other name in the order given."""
    known = [stage.value for stage in Stage if stage.value in names]
    return known + [name for name in dict.fromkeys(names) if name not in known]


# --- waterfall -------------------------------------------------------------------------

_ROW = 26
_CRITICAL_HEIGHT = 12
_BACKGROUND_HEIGHT = 6
_TOP = 22


def _session_end_ms(session: SessionResult) -> float:
    ends = [stage.end_ms for stage in session.stages]
    if session.error is not None:
        ends.append(session.error.elapsed_ms)
    if session.time_to_qr_ms is not None:
        ends.append(session.time_to_qr_ms)
    return max(ends, default=0.0)


def waterfall(run: RunData) -> str:
    """One row per measured session, on the session's clock: critical stages in the upper
    lane, background stages in the thinner lower one; a failed session is marked where it
    failed and labelled with its stage; the target is a dashed line."""
    sessions = run.sessions
    # The sessions' own span: stages of a 1 s session stay readable beside a 10 s target,
    # which the ECDF places; here it is a line only when it falls within that span.
    largest = max((_session_end_ms(session) for session in sessions), default=run.target_ms)
    scale = nice_scale(0.0, largest, LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    rows_bottom = _TOP + len(sessions) * _ROW
    # The axis and its grid first: drawn beneath the marks.
    parts = [
        axis(scale, rows_bottom + 4, "ms", grid_to=_TOP),
        element(
            "text",
            {"class": "lane-note", "x": LABEL_WIDTH, "y": 12},
            text("upper lane: critical stages (time-to-QR); lower lane: background stages"),
        ),
    ]
    for index, session in enumerate(sessions):
        parts.append(_waterfall_row(session, _TOP + index * _ROW, scale))
    if run.target_ms <= scale.high:
        parts.append(_target_line(scale(run.target_ms), _TOP - 4, rows_bottom, run.target_ms))
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


def _waterfall_row(session: SessionResult, y: float, scale: Scale) -> str:
    error = session.error
    name = f"#{session.number}"
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


def _target_line(x: float, top: float, bottom: float, target_ms: float) -> str:
    return element(
        "g",
        {"class": "target-line"},
        element("line", {"x1": x, "x2": x, "y1": top, "y2": bottom})
        + element(
            "text",
            # Left of the line: the target is often the axis's right end.
            {"x": x - 4, "y": top + 8, "text-anchor": "end"},
            text(f"target {format_seconds(target_ms)}"),
        ),
    )


# --- per-stage distributions -----------------------------------------------------------

_STRIP_ROW = 30


def stage_names(runs: Sequence[RunData]) -> list[str]:
    """Every stage a successful session of any run went through, in path order."""
    return stage_order([name for run in runs for name in run.saved.columns.stages])


def stage_strip(name: str, runs: Sequence[RunData]) -> str:
    """One stage's durations over the successful sessions: a row of dots per run, with the
    box from the 25th to the 75th percentile and a bar at the median."""
    samples = [run.saved.columns.stages.get(name) for run in runs]
    largest = max((max(s.durations) for s in samples if s and s.durations), default=1.0)
    scale = nice_scale(0.0, largest, LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    rows_bottom = 8 + len(runs) * _STRIP_ROW
    parts = [axis(scale, rows_bottom + 4, "ms", grid_to=8)]
    for index, (run, sample) in enumerate(zip(runs, samples, strict=True)):
        y = 8 + index * _STRIP_ROW
        middle = y + _STRIP_ROW / 2
        kind = "" if sample is None else (" critical" if sample.critical else " background")
        parts.append(
            element(
                "text",
                {"class": "row-label", "x": LABEL_WIDTH - 8, "y": middle + 4, "text-anchor": "end"},
                text(f"{run.label}{kind}"),
            )
        )
        if sample is None or not sample.durations:
            parts.append(
                element(
                    "text",
                    {"class": "no-data", "x": LABEL_WIDTH, "y": middle + 4},
                    text("no successful session ran this stage"),
                )
            )
            continue
        values = np.asarray(sample.durations, dtype=float)
        low, median, high = (float(v) for v in np.percentile(values, [25, 50, 75]))
        parts.append(
            element(
                "rect",
                {
                    "class": "strip-box",
                    "x": scale(low),
                    "y": y + 4.0,
                    "width": max(scale(high) - scale(low), 1.0),
                    "height": _STRIP_ROW - 8.0,
                },
            )
        )
        parts.append(
            element(
                "line",
                {
                    "class": "strip-median",
                    "x1": scale(median),
                    "x2": scale(median),
                    "y1": y + 2.0,
                    "y2": y + _STRIP_ROW - 2.0,
                },
                tooltip(f"{run.label} {name} median {format_ms(median)} ms (n = {len(values)})"),
            )
        )
        for order, value in enumerate(sample.durations):
            # Spread vertically so equal values stay visible; fixed, so the file is too.
            jitter = ((order * 0.618034) % 1.0 - 0.5) * (_STRIP_ROW - 12)
            parts.append(
                element(
                    "circle",
                    {
                        "class": "strip-dot",
                        "cx": scale(value),
                        "cy": middle + jitter,
                        "r": 3,
                        "fill": stage_colour(name),
                    },
                    tooltip(f"{run.label} {name}: {format_ms(value)} ms"),
                )
            )
    height = rows_bottom + AXIS_HEIGHT
    label = f"{name} durations across {len(runs)} run(s)"
    return svg(WIDTH, height, "".join(parts), css_class="chart stage-strip", label=label)


# --- time-to-QR ECDF -------------------------------------------------------------------

_ECDF_TOP = 20
_ECDF_HEIGHT = 260
_ECDF_LEFT = 60


def ecdf(runs: Sequence[RunData]) -> str:
    """The share of each run's measured sessions that showed a QR within t: one step per
    successful session (a failed session never arrives, so a curve with failures stays
    below 100 %), each run's p95 of the successful sessions, and the target line."""
    times = [sorted(run.saved.columns.qr_times) for run in runs]
    targets = list(dict.fromkeys(run.target_ms for run in runs))
    largest = max([*targets, *(t[-1] for t in times if t)])
    x_scale = nice_scale(0.0, largest, _ECDF_LEFT, WIDTH - RIGHT_MARGIN)
    bottom = _ECDF_TOP + _ECDF_HEIGHT
    y_scale = Scale(0.0, 1.0, bottom, _ECDF_TOP)
    parts = [_share_axis(y_scale), axis(x_scale, bottom, "ms")]
    for index, (run, sorted_times) in enumerate(zip(runs, times, strict=True)):
        parts.append(_ecdf_curve(run, sorted_times, x_scale, y_scale, index))
    for target_ms in targets:
        parts.append(_target_line(x_scale(target_ms), _ECDF_TOP - 8, bottom, target_ms))
    label = f"time-to-QR ECDF of {len(runs)} run(s)"
    return svg(WIDTH, bottom + AXIS_HEIGHT, "".join(parts), css_class="chart ecdf", label=label)


def _share_axis(y_scale: Scale) -> str:
    parts = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_scale(share)
        parts.append(
            element(
                "line",
                {
                    "class": "grid",
                    "x1": float(_ECDF_LEFT),
                    "x2": WIDTH - RIGHT_MARGIN,
                    "y1": y,
                    "y2": y,
                },
            )
        )
        parts.append(
            element(
                "text",
                {"class": "tick", "x": _ECDF_LEFT - 6.0, "y": y + 4, "text-anchor": "end"},
                text(f"{share:.0%}"),
            )
        )
    return "".join(parts)


def _ecdf_curve(
    run: RunData, sorted_times: list[float], x_scale: Scale, y_scale: Scale, index: int
) -> str:
    colour = run_colour(index)
    measured = len(run.saved.columns)
    path = [f"M{number(x_scale(0.0))},{number(y_scale(0.0))}"]
    points = []
    for rank, value in enumerate(sorted_times, start=1):
        x, y = x_scale(value), y_scale(rank / measured)
        path.append(f"H{number(x)} V{number(y)}")
        points.append(
            element(
                "circle",
                {"class": "ecdf-step", "cx": x, "cy": y, "r": 2.5, "fill": colour},
                tooltip(f"{run.label}: {rank} of {measured} sessions within {format_ms(value)} ms"),
            )
        )
    parts = [
        element(
            "path",
            {"class": "ecdf-line", "d": " ".join(path), "stroke": colour, "fill": "none"},
        ),
        *points,
    ]
    found = summarize(sorted_times)
    if found is not None:
        x = x_scale(found.p95)
        # Each run's label a line higher than the last: close p95s would overprint.
        height = 14.0 + 13.0 * index
        parts.append(
            element(
                "g",
                {"class": "p95-marker", "data-run": run.label},
                element(
                    "line",
                    {
                        "x1": x,
                        "x2": x,
                        "y1": y_scale(0.0),
                        "y2": y_scale(0.0) - height,
                        "stroke": colour,
                    },
                )
                + element(
                    "text",
                    {"x": x + 3, "y": y_scale(0.0) - height - 2, "fill": colour},
                    text(f"p95 {format_ms(found.p95)} ms"),
                ),
            )
        )
    return element("g", {"class": "ecdf-run", "data-run": run.label}, "".join(parts))


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
