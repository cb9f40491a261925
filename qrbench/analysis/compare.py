"""Side-by-side comparison of profiles from their measured sessions, with honest statistics.

The core takes data, not files: `LabelledRun`s hold the measured sessions of a results
file (see results/README.md) as columns (`analysis/columns.py`), whether they were read
from disk or just measured, so a run of any size is compared in bounded memory.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from qrbench import results
from qrbench.analysis.caveats import Caveat, CaveatKind, stability_caveats
from qrbench.analysis.sequential import AutoStop
from qrbench.analysis.stats import (
    Difference,
    MetricSummary,
    difference,
    first_run_slow,
    fisher_p_value,
    in_family,
    judgeable,
    machine_busy,
    outlier_indices,
    summarize,
)
from qrbench.analysis.summary import FailureCount
from qrbench.columns import MeasuredSessions
from qrbench.errors import ConfigError

TIME_TO_QR = "time-to-QR"
# What must match for two runs' timings to be comparable at all.
ENVIRONMENT_KEYS = ("chromium", "cpu_model", "cpu_cores", "world")
# What a file written before a key recorded: every run was on the replica.
_OLDER_ENVIRONMENT = {"world": "replica"}


@dataclass(frozen=True)
class LabelledRun:
    label: str
    # Where the sessions came from (a results file), for people and for --reference FILE.
    source: str
    # Measured sessions (warmups excluded), in the order run.
    sessions: MeasuredSessions
    environment: dict[str, Any]


# A span's metric is named apart from any stage of the same name.
SPAN_PREFIX = "span: "


class MetricKind(StrEnum):
    CRITICAL = "critical"
    BACKGROUND = "background"
    TOTAL = "total"
    SPAN = "span"  # a traced gateway's span, met in every successful session


@dataclass(frozen=True)
class MetricComparison:
    name: str
    # By label, for the profiles that have this metric: a stage such as the webhook can be
    # critical in one profile and background in another.
    kinds: dict[str, MetricKind]
    # By label, for every profile; None where a profile has no sample of this metric.
    summaries: dict[str, MetricSummary | None]
    # By label, for every profile but the reference; None where either side has no sample.
    differences: dict[str, Difference | None]


@dataclass(frozen=True)
class SuccessRate:
    succeeded: int
    measured: int
    # Fisher exact test against the reference's rate; None for the reference itself.
    p_value: float | None


@dataclass(frozen=True)
class Comparison:
    reference: str
    labels: list[str]
    sources: dict[str, str]
    time_to_qr: MetricComparison
    stages: list[MetricComparison]
    success: dict[str, SuccessRate]
    failures: dict[str, list[FailureCount]]
    caveats: list[Caveat]
    # By label, for every profile but the reference: the metrics whose verdicts against the
    # reference were judged as one Holm family (those with enough runs to be judged).
    families: dict[str, list[str]]
    # The same for a traced gateway's spans: their own family, so that a gateway sending
    # twenty spans does not take the power to call time-to-QR from its comparison.
    span_families: dict[str, list[str]] = field(default_factory=dict)
    # How `--runs auto` stopped, when the profiles ran so; None for --runs N or files.
    auto_stop: AutoStop | None = None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = asdict(self)
        return document


def unique_labels(names: Sequence[str]) -> list[str]:
    """Profile names made unique in order: an A/A comparison reads `optimized`, `optimized#2`."""
    seen: Counter[str] = Counter()
    labels = []
    for name in names:
        seen[name] += 1
        labels.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return labels


def run_from_results(saved: results.SavedRun, label: str) -> LabelledRun:
    """The measured sessions and environment of a results file read back."""
    return LabelledRun(
        label=label, source=str(saved.path), sessions=saved.columns, environment=saved.environment
    )


def load_runs(paths: Sequence[Path]) -> list[LabelledRun]:
    """Read results files (streamed); each is labelled with its profile's name, made unique."""
    saved = [results.read_run(path) for path in paths]
    labels = unique_labels([run.profile_name for run in saved])
    return [run_from_results(run, label) for run, label in zip(saved, labels, strict=True)]


def resolve_reference(choice: str | None, runs: Sequence[LabelledRun]) -> str:
    """The reference label: `choice` names a label or a source file; default the first run."""
    if choice is None:
        return runs[0].label
    for run in runs:
        if choice == run.label:
            return run.label
    for run in runs:
        if Path(choice).resolve() == Path(run.source).resolve():
            return run.label
    labels = ", ".join(run.label for run in runs)
    raise results.ResultsError(
        f"--reference {choice}: neither a label ({labels}) nor one of the files compared"
    )


def planned_reference(choice: str | None, targets: Sequence[str], labels: Sequence[str]) -> str:
    """The reference among profiles about to run, checked before any session does: `choice`
    names a label or a profile as given on the command line; default the first."""
    if choice is None:
        return labels[0]
    if choice in labels:
        return choice
    if choice in targets:
        return labels[list(targets).index(choice)]
    raise ConfigError(
        f"--reference {choice}: not one of the profiles compared ({', '.join(labels)})"
    )


def compare(
    runs: Sequence[LabelledRun], reference: str, *, time_to_qr_in_family: bool = True
) -> Comparison:
    """Every metric of every run side by side, each non-reference run against `reference`.

    Each run's differences from the reference are judged as one family: Holm's correction
    keeps the chance that any of its stages (and time-to-QR) is called significant by
    chance at SIGNIFICANCE_LEVEL, where testing each at that level would call one in about
    a third of A/A comparisons. `time_to_qr_in_family=False` judges time-to-QR alone at
    the level and the stages as the family (the gate's primary test; docs/gate.md).
    """
    labels = [run.label for run in runs]
    if len(runs) < 2:
        raise ValueError("a comparison needs at least two runs")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be unique (got {labels}); see unique_labels")
    if reference not in labels:
        raise ValueError(f"reference {reference!r} is not one of {labels}")
    by_label = {run.label: run for run in runs}

    time_to_qr = _metric(
        TIME_TO_QR,
        dict.fromkeys(labels, MetricKind.TOTAL),
        {run.label: run.sessions.qr_times for run in runs},
        reference,
    )
    stages = [
        _metric(name, kinds, samples, reference) for name, kinds, samples in _stage_samples(runs)
    ]
    spans = [stage for stage in stages if set(stage.kinds.values()) == {MetricKind.SPAN}]
    own = [stage for stage in stages if stage not in spans]
    family = [time_to_qr, *own] if time_to_qr_in_family else own
    others = [label for label in labels if label != reference]
    judged, families = _judged_in_families(family, others)
    judged_spans, span_families = _judged_in_families(spans, others)
    judged |= judged_spans
    time_to_qr = judged.get(time_to_qr.name, time_to_qr)
    stages = [judged.get(stage.name, stage) for stage in stages]
    success = {
        run.label: _success_rate(run, by_label[reference], is_reference=run.label == reference)
        for run in runs
    }
    return Comparison(
        reference=reference,
        labels=labels,
        sources={run.label: run.source for run in runs},
        time_to_qr=time_to_qr,
        stages=stages,
        success=success,
        failures={run.label: run.sessions.failures for run in runs},
        caveats=[
            *(caveat for run in runs for caveat in _run_caveats(run, time_to_qr)),
            *_environment_caveats(runs),
        ],
        families=families,
        span_families=span_families,
    )


def _metric(
    name: str,
    kinds: dict[str, MetricKind],
    samples: Mapping[str, Sequence[float]],
    reference: str,
) -> MetricComparison:
    reference_sample = samples[reference]
    return MetricComparison(
        name=name,
        kinds=kinds,
        summaries={label: summarize(sample) for label, sample in samples.items()},
        differences={
            label: difference(sample, reference_sample) if sample and reference_sample else None
            for label, sample in samples.items()
            if label != reference
        },
    )


def _judged_in_families(
    metrics: Sequence[MetricComparison], labels: Sequence[str]
) -> tuple[dict[str, MetricComparison], dict[str, list[str]]]:
    """`metrics` by name, each label's differences from the reference judged as one family
    (`stats.in_family`); and by label, the names of the metrics judged in its family."""
    differences = {metric.name: dict(metric.differences) for metric in metrics}
    families = {}
    for label in labels:
        members = [
            (metric.name, found)
            for metric in metrics
            if (found := metric.differences[label]) is not None
        ]
        judged = in_family([found for _, found in members])
        for (name, _), found in zip(members, judged, strict=True):
            differences[name][label] = found
        families[label] = [name for name, found in members if judgeable(found.test)]
    adjusted = {
        metric.name: replace(metric, differences=differences[metric.name]) for metric in metrics
    }
    return adjusted, families


def _stage_samples(
    runs: Sequence[LabelledRun],
) -> list[tuple[str, dict[str, MetricKind], dict[str, Sequence[float]]]]:
    """Stage durations of successful sessions, stages in the order they first appear, then
    a traced gateway's spans met in every successful session of a run."""
    labels = [run.label for run in runs]
    durations: dict[str, dict[str, Sequence[float]]] = {}
    kinds: dict[str, dict[str, MetricKind]] = {}
    for run in runs:
        label = run.label
        for name, sample in run.sessions.stages.items():
            durations.setdefault(name, {other: [] for other in labels})[label] = sample.durations
            kinds.setdefault(name, {})[label] = (
                MetricKind.CRITICAL if sample.critical else MetricKind.BACKGROUND
            )
    for run in runs:
        for span_name, values in run.sessions.spans.items():
            name = SPAN_PREFIX + span_name
            durations.setdefault(name, {other: [] for other in labels})[run.label] = values
            kinds.setdefault(name, {})[run.label] = MetricKind.SPAN
    return [(name, kinds[name], samples) for name, samples in durations.items()]


def _success_rate(run: LabelledRun, reference: LabelledRun, *, is_reference: bool) -> SuccessRate:
    succeeded = run.sessions.succeeded
    measured = len(run.sessions)
    p_value = None
    if not is_reference and measured and len(reference.sessions):
        reference_succeeded = reference.sessions.succeeded
        p_value = fisher_p_value(succeeded, measured, reference_succeeded, len(reference.sessions))
    return SuccessRate(succeeded=succeeded, measured=measured, p_value=p_value)


def _run_caveats(run: LabelledRun, time_to_qr: MetricComparison) -> list[Caveat]:
    label = run.label
    caveats = stability_caveats(time_to_qr.summaries[label], label)
    numbers, values = run.sessions.qr_numbers, run.sessions.qr_times
    outliers = {numbers[index]: values[index] for index in outlier_indices(values)}
    if outliers:
        caveats.append(Caveat(CaveatKind.OUTLIERS, label, sessions=outliers))
    if first_run_slow(values):
        first = {numbers[0]: values[0]}
        caveats.append(Caveat(CaveatKind.FIRST_RUN_SLOW, label, sessions=first))
    load = run.environment.get("load_average")
    cores = run.environment.get("cpu_cores")
    if (
        isinstance(load, list)
        and all(isinstance(value, int | float) for value in load)
        and isinstance(cores, int)
        and machine_busy(load, cores)
    ):
        caveats.append(Caveat(CaveatKind.MACHINE_BUSY, label, load_average=load[0], cores=cores))
    return caveats


def _environment_caveats(runs: Sequence[LabelledRun]) -> list[Caveat]:
    caveats = []
    for key in ENVIRONMENT_KEYS:
        values = {run.label: run.environment.get(key, _OLDER_ENVIRONMENT.get(key)) for run in runs}
        if len({str(value) for value in values.values()}) > 1:
            caveats.append(Caveat(CaveatKind.ENVIRONMENTS_DIFFER, None, setting=key, values=values))
    return caveats
