"""Distributions: each stage's values per run as a strip (dots, IQR box, median) and the
time-to-QR ECDF with the target and each run's p95 (marks: `strip-dot`, `ecdf-step`,
`p95-marker`, `target-line`)."""

from collections.abc import Sequence

import numpy as np

from qrbench.analysis.stats import summarize
from qrbench.report.html.model import RunData
from qrbench.report.html.palette import (
    AXIS_HEIGHT,
    LABEL_WIDTH,
    RIGHT_MARGIN,
    WIDTH,
    run_colour,
    stage_colour,
    stage_order,
    target_line,
)
from qrbench.report.html.sampling import MAX_POINTS, thinned
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
from qrbench.report.wording.numbers import format_ms

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
        values_drawn = (
            sample.durations
            if len(sample.durations) <= MAX_POINTS
            else [value for _, value in thinned(sorted(sample.durations))]
        )
        for order, value in enumerate(values_drawn):
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
        parts.append(target_line(x_scale(target_ms), _ECDF_TOP - 8, bottom, target_ms))
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
    for rank, value in thinned(sorted_times):
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
