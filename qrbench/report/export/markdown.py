"""GitHub-flavoured Markdown, fit for `$GITHUB_STEP_SUMMARY` and pull-request comments."""

from collections.abc import Sequence
from pathlib import Path
from typing import assert_never

from qrbench.analysis.caveats import Caveat
from qrbench.analysis.compare import Comparison, MetricComparison
from qrbench.analysis.explain.attribution import DirectionEffects, Explanation
from qrbench.analysis.gate import GateReport
from qrbench.analysis.sequential import AutoStop, TargetStop
from qrbench.analysis.summary import RunSummary, Verdict
from qrbench.report.wording.caveats import grouped_warnings, run_warning
from qrbench.report.wording.compare import (
    comparison_significance_notes,
    describe_difference,
    describe_kind,
    describe_success,
    describe_success_difference,
    headlines,
)
from qrbench.report.wording.explain import (
    RowKind,
    direction_title,
    explanation_headline,
    impact_rows,
)
from qrbench.report.wording.gate import (
    check_measured,
    check_threshold,
    check_why,
    gate_significance_notes,
    headline,
)
from qrbench.report.wording.numbers import format_ms
from qrbench.report.wording.sampling import auto_heading, shift_lines, target_line


def _cell(text: str) -> str:
    # A pipe would end the cell and a newline the row; error messages may hold either.
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], right_aligned: Sequence[bool], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(_cell(title) for title in header) + " |",
        "|" + "|".join("---:" if right else "---" for right in right_aligned) + "|",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_run(profile: str, scenario: str, results_path: Path, summary: RunSummary) -> str:
    rows = [
        [
            stage.name,
            "critical" if stage.critical else "background",
            str(stage.timing.n),
            format_ms(stage.timing.median),
            format_ms(stage.timing.p95),
            format_ms(stage.timing.max),
        ]
        for stage in summary.stages
    ]
    ttq = summary.time_to_qr_ms
    time_to_qr = (
        ["-", "-", "-"]
        if ttq is None
        else [format_ms(ttq.median), format_ms(ttq.p95), format_ms(ttq.max)]
    )
    rows.append(
        [
            "**time-to-QR**",
            f"target {format_ms(summary.deadline_ms)}",
            "0" if ttq is None else str(ttq.n),
            *time_to_qr,
        ]
    )
    verdict = _status(summary.verdict)
    parts = [
        f"### qrbench: {profile} on {scenario}\n",
        f"**{verdict}**: {summary.within_deadline}/{summary.measured} sessions showed a "
        f"verified QR within {summary.deadline_ms / 1000:g} s "
        f"({summary.succeeded} succeeded in all). Results: `{results_path}`\n",
        *_target_stop(summary.auto_stop),
        _table(
            ["stage", "kind", "n", "median ms", "p95 ms", "max ms"],
            [False, False, True, True, True, True],
            rows,
        ),
    ]
    if summary.failures:
        parts.append(
            "#### Failures\n\n"
            + _table(
                ["stage", "error", "count", "example"],
                [False, False, True, False],
                [[f.stage, f.type, str(f.count), f.example] for f in summary.failures],
            )
        )
    if summary.caveats:
        listed = "".join(f"- {run_warning(caveat)}\n" for caveat in summary.caveats)
        parts.append("#### Warnings\n\n" + listed)
    return "\n".join(parts)


def _metric_row(metric: MetricComparison, comparison: Comparison, name: str) -> list[str]:
    row = [name, describe_kind(metric)]
    for label in comparison.labels:
        summary = metric.summaries[label]
        row += (
            ["-", "-"] if summary is None else [format_ms(summary.median), format_ms(summary.p95)]
        )
        if label != comparison.reference:
            found = metric.differences[label]
            row.append("-" if found is None else describe_difference(found))
    return row


def render_comparison(comparison: Comparison) -> str:
    reference = comparison.reference
    header = ["metric", "kind"]
    right_aligned = [False, False]
    for label in comparison.labels:
        header += [f"{label} median ms", f"{label} p95 ms"]
        right_aligned += [True, True]
        if label != reference:
            header.append(f"{label} vs {reference}")
            right_aligned.append(False)
    rows = [_metric_row(stage, comparison, stage.name) for stage in comparison.stages]
    rows.append(_metric_row(comparison.time_to_qr, comparison, "**time-to-QR**"))
    success = ["**success rate**", ""]
    for label in comparison.labels:
        rate = comparison.success[label]
        success += [describe_success(rate), ""]
        if label != reference:
            success.append(describe_success_difference(rate, comparison.success[reference]))
    rows.append(success)

    parts = [
        f"### qrbench compare: {', '.join(comparison.labels)} (reference: {reference})\n",
        "".join(f"- **{headline}**\n" for headline in headlines(comparison).values()),
        *_auto_stop(comparison.auto_stop),
        _table(header, right_aligned, rows),
        "".join(f"- {note}\n" for note in comparison_significance_notes(comparison))
        + "".join(f"- {label}: `{source}`\n" for label, source in comparison.sources.items()),
    ]
    failures = [
        [label, f.stage, f.type, str(f.count), f.example]
        for label, found in comparison.failures.items()
        for f in found
    ]
    if failures:
        parts.append(
            "#### Failures\n\n"
            + _table(
                ["profile", "stage", "error", "count", "example"],
                [False, False, False, True, False],
                failures,
            )
        )
    parts += _warnings(comparison.caveats)
    return "\n".join(parts)


def _target_stop(stop: TargetStop | None) -> list[str]:
    return [] if stop is None else [f"--runs auto: {_cell(target_line(stop))}\n"]


def _auto_stop(stop: AutoStop | None) -> list[str]:
    if stop is None:
        return []
    lines = "".join(f"- {_cell(line)}\n" for line in shift_lines(stop))
    return [f"**{auto_heading(stop)}**\n\n{lines}"]


def _warnings(caveats: Sequence[Caveat]) -> list[str]:
    if not caveats:
        return []
    listed = "".join(f"- {message} (*{hint}*)\n" for message, hint in grouped_warnings(caveats))
    return ["#### Warnings\n\n" + listed]


def _effects_table(explanation: Explanation, effects: DirectionEffects) -> str:
    rows = impact_rows(explanation, effects)
    with_estimates = any(row.estimate_sentence for row in rows)
    header = ["knob", "slow value", "fast value", "measured saving", "95 % CI", "share"]
    header += ["significance", "stages moved"] + (["estimate"] if with_estimates else [])
    right_aligned = [False, False, False, True, True, True, False, False, False]
    knob_style = {RowKind.GROUP: "{}", RowKind.REMAINDER: "*{}*", RowKind.TOTAL: "**{}**"}
    cells = [
        [
            knob_style[row.kind].format(row.knob),
            "; ".join(row.slow_values),
            "; ".join(row.fast_values),
            row.saving,
            row.ci,
            row.share,
            row.verdict,
            "; ".join(row.stages) or ("-" if row.kind is RowKind.GROUP else ""),
            *([row.estimate_sentence] if with_estimates else []),
        ]
        for row in rows
    ]
    title = f"#### {direction_title(effects, explanation)}\n\n"
    return title + _table(header, right_aligned[: len(header)], cells)


def render_explanation(explanation: Explanation) -> str:
    parts = [
        f"### qrbench explain: {explanation.slow} -> {explanation.fast} "
        f"on {explanation.scenario}\n",
        f"**{explanation_headline(explanation)}**\n",
        *_auto_stop(explanation.auto_stop),
        *(_effects_table(explanation, effects) for effects in explanation.directions),
        "".join(f"- {label}: `{source}`\n" for label, source in explanation.sources.items())
        + (
            ""
            if explanation.estimates_source is None
            else f"- estimates: `{explanation.estimates_source}`\n"
        ),
        *_warnings(explanation.caveats),
    ]
    return "\n".join(parts)


def _status(status: Verdict) -> str:
    match status:
        case Verdict.PASS:
            return "✅ PASS"
        case Verdict.FAIL:
            return "❌ FAIL"
        case _:
            assert_never(status)


def render_gate(report: GateReport) -> str:
    verdict = _status(Verdict.PASS if report.passed else Verdict.FAIL)
    parts = [
        f"### qrbench gate: {report.profile} on {report.scenario}\n",
        f"**{verdict}**: {headline(report)}\n",
        *_target_stop(report.auto_stop),
        _table(
            ["check", "threshold", "measured", "result", "why"],
            [False, False, True, False, False],
            [
                [
                    check.name,
                    check_threshold(check),
                    check_measured(check),
                    _status(check.status),
                    check_why(check),
                ]
                for check in report.checks
            ],
        ),
        "".join(f"- {note}\n" for note in gate_significance_notes(report))
        + f"- results: `{report.source}`\n"
        + ("" if report.baseline is None else f"- baseline: `{report.baseline}`\n"),
    ]
    parts += _warnings(report.caveats)
    return "\n".join(parts)
