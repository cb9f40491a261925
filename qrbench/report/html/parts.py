"""The report's parts from what the commands have in hand: results files, a comparison, an
explanation, a gate's verdict. A results file is read with `results.read_run` and
`results.read_some` (the records its waterfall draws, chosen from the columns)."""

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from qrbench import results
from qrbench.analysis.caveats import Caveat, stability_caveats
from qrbench.analysis.compare import Comparison, compare, run_from_results, unique_labels
from qrbench.analysis.explain.attribution import Explanation
from qrbench.analysis.gate import GateReport
from qrbench.analysis.stats import summarize
from qrbench.columns import SessionView
from qrbench.config.models import Profile
from qrbench.config.validation import describe
from qrbench.report.html import sampling
from qrbench.report.html.model import ExplanationPart, GatePart, RunData, RunsPart
from qrbench.report.wording.caveats import caveat_hint, caveat_message, run_warning
from qrbench.report.wording.gate import check_measured, check_threshold, check_why, headline
from qrbench.report.wording.sampling import stop_phrases, target_phrases


def run_data(path: Path, label: str | None = None) -> RunData:
    """A results file's columns and the records of the sessions its waterfall draws
    (`sampling`), labelled with its profile's name unless `label` says otherwise; raises
    ResultsError naming the file. Memory is the columns and those records, not the file."""
    saved = results.read_some(path, lambda columns: _drawn(sampling.chosen_roles(columns)))
    roles = sampling.chosen_roles(saved.columns)
    try:
        target_s = Profile.model_validate(saved.profile).target.deadline_s
    except ValidationError as exc:
        raise results.ResultsError(
            f"{path}: the recorded profile is not one this qrbench reads ({describe(exc)})"
        ) from None
    return RunData(
        label=label or saved.profile_name, saved=saved, target_ms=target_s * 1000, roles=roles
    )


def _drawn(roles: dict[int, str] | None) -> results.Keep:
    """Which measured sessions to keep: every one without roles, else those with a role
    and the first failed ones."""
    failed = 0

    def keep(session: SessionView) -> bool:
        nonlocal failed
        if session.warmup:
            return False
        if roles is None or session.number in roles:
            return True
        if not session.ok and failed < sampling.FAILED_WATERFALLS:
            failed += 1
            return True
        return False

    return keep


def relabelled(runs: Sequence[RunData]) -> list[RunData]:
    """Runs of one profile told apart as compare tells them: `optimized`, `optimized#2`."""
    labels = unique_labels([run.label for run in runs])
    return [replace(run, label=new) for run, new in zip(runs, labels, strict=True)]


def phrased(caveats: Sequence[Caveat]) -> list[str]:
    """Caveats of a comparison or an explanation, each with its hint, as `compare` words them."""
    return [f"{caveat_message(caveat)} ({caveat_hint(caveat)})" for caveat in caveats]


def runs_part(
    runs: Sequence[RunData], title: str | None = None, caveats: list[str] | None = None
) -> RunsPart:
    """Runs side by side. Without `caveats`, those `run` (one run) or `compare` (several)
    would give; a run that did not finish is said so either way."""
    if caveats is None:
        caveats = _caveats_of(runs)
    unfinished = [
        f"{run.label}: the run did not finish ({run.saved.status.value}); shown are the "
        "sessions it recorded"
        for run in runs
        if run.saved.status is not results.RunStatus.COMPLETE
    ]
    if title is None:
        title = ", ".join(
            dict.fromkeys(f"{run.label} on {run.saved.scenario_name}" for run in runs)
        )
    return RunsPart(title=title, runs=list(runs), caveats=caveats + unfinished)


def _caveats_of(runs: Sequence[RunData]) -> list[str]:
    if len(runs) == 1:
        found = summarize(runs[0].saved.columns.qr_times)
        return [run_warning(caveat) for caveat in stability_caveats(found, None)]
    labelled = [run_from_results(run.saved, run.label) for run in runs]
    return phrased(compare(labelled, labelled[0].label).caveats)


def comparison_part(comparison: Comparison) -> RunsPart:
    """The compared runs, read back from their results files, with the comparison's caveats."""
    runs = [run_data(Path(comparison.sources[label]), label) for label in comparison.labels]
    title = f"compare {', '.join(comparison.labels)} (reference: {comparison.reference})"
    part = runs_part(runs, title, phrased(comparison.caveats))
    return replace(part, stopping=stop_phrases(comparison.auto_stop))


def explanation_part(
    explanation: Explanation,
    caveats: list[str] | None = None,
    stopping: list[str] | None = None,
) -> ExplanationPart:
    """`caveats` and `stopping` phrased already when the explanation was read back from
    its export."""
    return ExplanationPart(
        title=f"explain {explanation.slow} -> {explanation.fast} on {explanation.scenario}",
        explanation=explanation,
        caveats=phrased(explanation.caveats) if caveats is None else caveats,
        stopping=stop_phrases(explanation.auto_stop) if stopping is None else stopping,
    )


def gate_part(report: GateReport) -> GatePart:
    return GatePart(
        title=f"gate {report.profile} on {report.scenario}",
        headline=headline(report),
        passed=report.passed,
        checks=[
            (
                check.name,
                check_threshold(check),
                check_measured(check),
                check.status.value,
                check_why(check),
            )
            for check in report.checks
        ],
        caveats=phrased(report.caveats),
        stopping=target_phrases(report.auto_stop),
    )
