"""The report as one self-contained HTML document: inline CSS and SVG, no script, nothing
fetched (its Content-Security-Policy forbids every load), so it opens offline and cannot
run what a results file smuggled in. One section function per kind of part (`render`)."""

from collections.abc import Sequence
from typing import assert_never

from qrbench import __version__
from qrbench.analysis.explain.attribution import DirectionEffects, Explanation
from qrbench.analysis.stats import summarize
from qrbench.report.html import (
    attribution,
    capacity,
    distributions,
    palette,
    sampling,
    waterfall,
)
from qrbench.report.html.model import (
    CapacityPart,
    ExplanationPart,
    GatePart,
    ReportPart,
    RunData,
    RunsPart,
)
from qrbench.report.html.svg import element, text
from qrbench.report.wording.explain import direction_title, explanation_headline, impact_rows
from qrbench.report.wording.numbers import format_ms, format_rate

# No default-src: nothing may be fetched, not even the page's own favicon.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 920px;
       color: #222; padding: 0 12px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; } .pass { color: #117733; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
            vertical-align: -1px; }
.chart { display: block; margin: 6px 0 14px; font-size: 11px; }
.chart .axis, .chart .zero-line { stroke: #444; }
.chart .grid { stroke: #eee; }
.chart .tick, .chart .lane-note, .chart .axis-title, .chart .no-data { fill: #555; }
.chart .row-label { fill: #222; }
.chart .waterfall-row.failed .row-label { fill: #b00020; font-weight: bold; }
.chart .stage-bar.failed { stroke: #b00020; stroke-width: 2; }
.chart .ttq-mark { stroke: #000; stroke-width: 1.5; }
.chart .failure-mark { stroke: #b00020; stroke-width: 2.5; fill: none; }
.chart .target-line line { stroke: #b00020; stroke-dasharray: 5 3; stroke-width: 1.5; }
.chart .target-line text, .chart .target-note { fill: #b00020; }
.chart .strip-box { fill: #f2f2f2; stroke: #888; }
.chart .strip-median { stroke: #000; stroke-width: 2; }
.chart .strip-dot { fill-opacity: 0.75; stroke: #333; stroke-width: 0.5; }
.chart .ecdf-line { stroke-width: 1.5; }
.chart .attribution-ci { stroke: #000; stroke-width: 1.5; fill: none; }
.chart .estimate-mark { fill: #fff; stroke: #d55e00; stroke-width: 2; }
"""


def render(title: str, parts: Sequence[ReportPart]) -> str:
    """The whole document: a heading, a contents list and a section per part."""
    sections = [_section(part, f"part-{index}") for index, part in enumerate(parts, start=1)]
    contents = "".join(
        element("li", {}, element("a", {"href": f"#part-{index}"}, text(part.title)))
        for index, part in enumerate(parts, start=1)
    )
    body = (
        element("h1", {}, text(title))
        + element("p", {"class": "note"}, text(f"Written by qrbench {__version__}."))
        + element("ul", {"class": "contents"}, contents)
        + "".join(sections)
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _section(part: ReportPart, anchor: str) -> str:
    # One function per kind: a new kind of results adds its part type to model.ReportPart
    # and its case here.
    match part:
        case RunsPart():
            content = _runs_section(part)
        case ExplanationPart():
            content = _explanation_section(part)
        case GatePart():
            content = _gate_section(part)
        case CapacityPart():
            content = _capacity_section(part)
        case _:
            assert_never(part)
    return element("section", {"id": anchor}, element("h2", {}, text(part.title)) + content)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """A table of plain strings (escaped here); `numeric` columns are right-aligned."""
    head = element("tr", {}, "".join(element("th", {}, text(title)) for title in header))
    body = "".join(
        element(
            "tr",
            {},
            "".join(
                element("td", {"class": "n"} if right else {}, text(cell))
                for cell, right in zip(row, numeric, strict=True)
            ),
        )
        for row in rows
    )
    return element("table", {}, head + body)


def _stopping(phrases: Sequence[str]) -> str:
    """Why `--runs auto` stopped: its heading, a line per question; nothing for --runs N."""
    if not phrases:
        return ""
    heading, *lines = phrases
    listed = "".join(element("li", {}, text(line)) for line in lines)
    return (
        element("h3", {}, text("Stopping"))
        + element("p", {}, text(heading))
        + element("ul", {}, listed)
    )


def _caveats(caveats: Sequence[str]) -> str:
    if not caveats:
        return element("p", {"class": "note"}, text("No caveats."))
    return element("ul", {"class": "caveats"}, "".join(element("li", {}, text(c)) for c in caveats))


def _figure(chart: str, caption: str) -> str:
    return element("figure", {}, chart + element("figcaption", {"class": "note"}, text(caption)))


# --- runs ------------------------------------------------------------------------------


def _thinned_note(runs: Sequence[RunData]) -> str:
    if all(len(run.saved.columns) <= sampling.MAX_POINTS for run in runs):
        return ""
    return (
        f" A run of more than {sampling.MAX_POINTS:,} sessions is drawn from "
        f"{sampling.MAX_POINTS:,} of them evenly spaced by rank (the fastest and slowest "
        "included), here and in the stage durations; the figures are over every session."
    )


def _runs_section(part: RunsPart) -> str:
    runs = part.runs
    parts = [
        element("h3", {}, text("Summary")),
        _summary_table(runs),
        element("h3", {}, text("Time-to-QR distribution")),
        _figure(
            distributions.ecdf(runs),
            "Share of the measured sessions that showed a QR within the time on the x axis "
            "(one step per successful session; failed sessions never arrive). The dashed "
            "line is the target; p95 is over the successful sessions." + _thinned_note(runs),
        ),
        _legend_of_runs(runs),
        element("h3", {}, text("Stage waterfalls")),
    ]
    for run in runs:
        parts.append(_waterfall(run))
    parts.append(element("h3", {}, text("Stage durations across sessions")))
    parts.append(
        element(
            "p",
            {"class": "note"},
            text(
                "Each stage's duration in every successful session (dots), the middle half "
                "of them (box) and the median (bar), one row per run."
            ),
        )
    )
    for name in distributions.stage_names(runs):
        parts.append(element("h4", {}, text(name)) + distributions.stage_strip(name, runs))
    parts.append(element("h3", {}, text("Environment")))
    parts.append(_environment_table(runs))
    parts.append(_stopping(part.stopping))
    parts.append(element("h3", {}, text("Caveats")))
    parts.append(_caveats(part.caveats))
    return "".join(parts)


def _summary_table(runs: Sequence[RunData]) -> str:
    rows = []
    for run in runs:
        columns = run.saved.columns
        found = summarize(columns.qr_times)
        within = sum(1 for value in columns.qr_times if value <= run.target_ms)
        rows.append(
            [
                run.label,
                format_rate(columns.succeeded, len(columns)),
                "-" if found is None else format_ms(found.median),
                "-" if found is None else format_ms(found.p95),
                format_ms(run.target_ms),
                format_rate(within, len(columns)),
            ]
        )
    header = ["run", "succeeded", "median ms", "p95 ms", "target ms", "within target"]
    return _table(header, rows, [False, True, True, True, True, True])


def _legend_of_runs(runs: Sequence[RunData]) -> str:
    swatches = "".join(
        element(
            "span",
            {},
            element("i", {"style": f"background:{palette.run_colour(index)}"}) + text(run.label),
        )
        for index, run in enumerate(runs)
    )
    return element("p", {"class": "legend"}, swatches)


def _waterfall(run: RunData) -> str:
    names = palette.stage_order([stage.name for s in run.sessions for stage in s.stages])
    legend = element(
        "p",
        {"class": "legend"},
        "".join(
            element(
                "span",
                {},
                element("i", {"style": f"background:{palette.stage_colour(n)}"}) + text(n),
            )
            for n in names
        ),
    )
    measured = len(run.saved.columns)
    parts = [element("h4", {}, text(f"{run.label} ({measured:,} measured sessions)"))]
    if not run.sessions:
        return parts[0] + element("p", {"class": "note"}, text("No measured session."))
    if run.roles is not None:
        failed_count = measured - run.saved.columns.succeeded
        drawn_failed = sum(1 for session in run.sessions if not session.ok)
        parts.append(
            element(
                "p",
                {"class": "note sampled"},
                text(
                    f"{len(run.sessions)} of {measured:,} sessions drawn: the fastest, "
                    "median, p95 and slowest successful ones"
                    + (
                        f" and the first {drawn_failed} of {failed_count:,} failed"
                        if failed_count
                        else ""
                    )
                    + f" (every session is drawn up to {sampling.ALL_WATERFALLS})."
                ),
            )
        )
    parts += [legend, waterfall.waterfall(run)]
    failed = [
        [
            f"#{session.number}",
            "-" if session.error is None else session.error.stage,
            "-" if session.error is None else session.error.type,
            "-" if session.error is None else session.error.message,
        ]
        for session in run.sessions
        if not session.ok
    ]
    if failed:
        parts.append(_table(["failed session", "stage", "error", "message"], failed, [False] * 4))
    return "".join(parts)


def _environment_table(runs: Sequence[RunData]) -> str:
    rows = []
    for run in runs:
        saved = run.saved
        plan = ", ".join(
            f"{key} {value}"
            for key, value in saved.plan.items()
            if not isinstance(value, dict | list)
        )
        rows.append([run.label, "results file", str(saved.path)])
        rows.append([run.label, "qrbench", saved.qrbench_version])
        # Files from before engines were recorded ran on the model.
        rows.append([run.label, "engine", str(saved.profile.get("engine", "model"))])
        rows.append([run.label, "run", f"{saved.status.value}; {plan}"])
        for key, value in saved.environment.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            rows.append([run.label, key, shown])
    return _table(["run", "what", "value"], rows, [False, False, False])


# --- explain ---------------------------------------------------------------------------


def _explanation_section(part: ExplanationPart) -> str:
    explanation = part.explanation
    parts = [element("p", {}, element("strong", {}, text(explanation_headline(explanation))))]
    for effects in explanation.directions:
        title = direction_title(effects, explanation)
        parts.append(element("h3", {}, text(title)))
        parts.append(
            _figure(
                attribution.attribution(attribution.attribution_bars(explanation, effects), title),
                "Bars: measured time-to-QR saving of each knob group with its 95 % bootstrap "
                "CI (whiskers), then the interaction remainder (grey) and the total gap "
                "(black); hollow diamonds: the study's estimates, where given.",
            )
        )
        parts.append(_impact_table(explanation, effects))
    sources = dict(explanation.sources)
    if explanation.estimates_source is not None:
        sources["estimates"] = explanation.estimates_source
    if sources:
        listed = "".join(
            element("li", {}, text(f"{label}: {source}")) for label, source in sources.items()
        )
        parts.append(element("h3", {}, text("Files")) + element("ul", {}, listed))
    parts.append(_stopping(part.stopping))
    parts.append(element("h3", {}, text("Caveats")))
    parts.append(_caveats(part.caveats))
    return "".join(parts)


def _impact_table(explanation: Explanation, effects: DirectionEffects) -> str:
    rows = [
        [
            row.knob,
            "; ".join(row.slow_values),
            "; ".join(row.fast_values),
            row.saving,
            row.ci,
            row.share,
            row.verdict,
            "; ".join(row.stages),
            " ".join(filter(None, [row.estimate_sentence, row.estimate_note])) or "-",
        ]
        for row in impact_rows(explanation, effects)
    ]
    # The columns of explain's Markdown table.
    header = ["knob", "slow value", "fast value", "measured saving", "95 % CI", "share"]
    header += ["significance", "stages moved", "estimate"]
    return _table(header, rows, [False, False, False, True, True, True, False, False, False])


# --- gate ------------------------------------------------------------------------------


def _gate_section(part: GatePart) -> str:
    verdict = element(
        "span",
        {"class": "pass" if part.passed else "fail"},
        text("PASS" if part.passed else "FAIL"),
    )
    return (
        element("p", {}, verdict + text(f": {part.headline}"))
        + _table(
            ["check", "threshold", "measured", "result", "why"],
            part.checks,
            [False, False, True, False, False],
        )
        + _stopping(part.stopping)
    )


# --- capacity --------------------------------------------------------------------------


def _capacity_section(part: CapacityPart) -> str:
    ramp = part.ramp
    knee = ramp.knee
    headline = (
        "no step met the criterion"
        if knee is None
        else f"knee: {knee.capacity:g} {knee.unit.value} (step {knee.step})"
        + ("" if knee.per_session_mb is None else f", {knee.per_session_mb:,.0f} MB per session")
    )
    rows = [
        [
            capacity.step_label(step),
            f"{step.succeeded}/{step.sessions}",
            "-" if step.percentile_ms is None else format_ms(step.percentile_ms),
            "-" if step.per_session_mb is None else f"{step.per_session_mb:,.0f}",
            "meets" if step.meets else "misses",
        ]
        for step in ramp.step_rows
    ]
    return "".join(
        [
            element("p", {}, text(f"{ramp.profile_name} on {ramp.scenario_name}: {headline}")),
            _figure(
                capacity.percentile_chart(ramp),
                f"p{ramp.percentile:g} time-to-QR of each step's successful sessions; the "
                "line is the target. The knee is the largest step that met the criterion.",
            ),
            _figure(
                capacity.memory_chart(ramp),
                "Chromium memory (PSS, else RSS) at each step's peak over the sessions in "
                "flight then: a warm pool's browsers are shared by the sessions they serve.",
            ),
            _table(
                ["step", "ok", f"p{ramp.percentile:g} ms", "MB per session", "result"],
                rows,
                [False, True, True, True, False],
            ),
        ]
    )
