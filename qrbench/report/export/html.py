"""A self-contained HTML report with SVG charts (report/html/): stage waterfalls, per-stage
distributions, the time-to-QR ECDF, explain's attribution. The summaries in hand name the
results files; their sessions are read back from there, every stage of every session."""

from dataclasses import replace
from pathlib import Path

from qrbench.analysis.compare import Comparison
from qrbench.analysis.explain.attribution import Explanation
from qrbench.analysis.gate import GateReport
from qrbench.analysis.summary import RunSummary
from qrbench.report.html import page
from qrbench.report.html.model import ReportPart
from qrbench.report.html.parts import (
    comparison_part,
    explanation_part,
    gate_part,
    phrased,
    relabelled,
    run_data,
    runs_part,
)
from qrbench.report.wording.caveats import run_warning
from qrbench.report.wording.sampling import target_phrases


def render_run(profile: str, scenario: str, results_path: Path, summary: RunSummary) -> str:
    run = run_data(results_path, profile)
    part = runs_part([run], caveats=[run_warning(caveat) for caveat in summary.caveats])
    part = replace(part, stopping=target_phrases(summary.auto_stop))
    return page.render(f"qrbench run: {profile} on {scenario}", [part])


def render_comparison(comparison: Comparison) -> str:
    title = f"qrbench compare: {', '.join(comparison.labels)}"
    return page.render(title, [comparison_part(comparison)])


def render_explanation(explanation: Explanation) -> str:
    """The attribution, then every variant the explanation ran, side by side."""
    variants = [run_data(Path(source), label) for label, source in explanation.sources.items()]
    title = f"qrbench explain: {explanation.slow} -> {explanation.fast} on {explanation.scenario}"
    # The explanation's caveats are its variants' (one compare of them all): said again
    # here, so that this section does not read as if it had none.
    caveats = phrased(explanation.caveats)
    runs = runs_part(variants, f"the {len(variants)} variants explain ran", caveats)
    return page.render(title, [explanation_part(explanation), runs])


def render_gate(report: GateReport) -> str:
    runs = [] if report.baseline is None else [run_data(report.baseline, "baseline")]
    runs.append(run_data(report.source))
    # The caveats the verdict rests on, beside the runs too.
    runs_shown = runs_part(relabelled(runs), caveats=phrased(report.caveats))
    parts: list[ReportPart] = [gate_part(report), runs_shown]
    return page.render(f"qrbench gate: {report.profile} on {report.scenario}", parts)


def render_report(parts: list[ReportPart], title: str = "qrbench report") -> str:
    """A report on files read by `report.html.inputs.read_report` (`qrbench report`)."""
    return page.render(title, parts)
