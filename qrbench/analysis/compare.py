"""Side-by-side comparison of profiles from their measured sessions, with honest statistics.

The core takes data, not files: `LabelledRun`s hold the session records of the results
file (see results/README.md), whether they were read from disk or just measured.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, assert_never

from qrbench import results
from qrbench.analysis.stats import (
    FEW_RUNS,
    FIRST_RUN_SLOW_FACTOR,
    NOISY_CV,
    OUTLIER_Z,
    SIGNIFICANCE_LEVEL,
    Difference,
    MetricSummary,
    RatioOfMedians,
    Significance,
    difference,
    first_run_slow,
    fisher_p_value,
    is_noisy,
    machine_busy,
    outlier_indices,
    summarize,
    too_few_runs,
)
from qrbench.analysis.summary import FailureCount, count_failures
from qrbench.records import SessionError

TIME_TO_QR = "time-to-QR"
NO_RATIO = "no ratio (reference 0 ms)"
SESSION_KEYS = ("number", "warmup", "ok", "time_to_qr_ms", "error", "stages")
# What must match for two runs' timings to be comparable at all.
ENVIRONMENT_KEYS = {"chromium": "Chromium", "cpu_model": "CPU model", "cpu_cores": "CPU cores"}


@dataclass(frozen=True)
class LabelledRun:
    label: str
    # Where the sessions came from (a results file), for people and for --reference FILE.
    source: str
    # Measured sessions (warmups excluded) as records of the results file, in the order run.
    sessions: list[dict[str, Any]]
    environment: dict[str, Any]


class MetricKind(StrEnum):
    CRITICAL = "critical"
    BACKGROUND = "background"
    TOTAL = "total"


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


class CaveatKind(StrEnum):
    NOISY = "noisy"
    OUTLIERS = "outliers"
    TOO_FEW_RUNS = "too few runs"
    FIRST_RUN_SLOW = "first run slow"
    MACHINE_BUSY = "machine busy"
    ENVIRONMENTS_DIFFER = "environments differ"


@dataclass(frozen=True)
class Caveat:
    """Something a reader should know before trusting the comparison, and what to do."""

    kind: CaveatKind
    # The profile it concerns; None when it concerns the comparison as a whole.
    label: str | None
    message: str
    hint: str


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
    # By label, for every profile but the reference.
    headlines: dict[str, str]

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


def run_from_document(document: Mapping[str, Any], label: str, source: str) -> LabelledRun:
    """The measured sessions and environment of a results document (`results.load`)."""
    sessions = document.get("sessions")
    if not isinstance(sessions, list):
        raise results.ResultsError(f"{source}: no list of sessions")
    for position, session in enumerate(sessions, start=1):
        missing = [
            key for key in SESSION_KEYS if not isinstance(session, dict) or key not in session
        ]
        if missing:
            raise results.ResultsError(f"{source}: session {position} lacks {', '.join(missing)}")
    environment = document.get("environment")
    return LabelledRun(
        label=label,
        source=source,
        sessions=[session for session in sessions if not session["warmup"]],
        environment=environment if isinstance(environment, dict) else {},
    )


def load_runs(paths: Sequence[Path]) -> list[LabelledRun]:
    """Read results files; each is labelled with its profile's name, made unique."""
    documents = []
    for path in paths:
        try:
            document = results.load(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise results.ResultsError(f"{path}: cannot read ({exc})") from None
        profile = document.get("profile")
        if not isinstance(profile, dict) or not isinstance(profile.get("name"), str):
            raise results.ResultsError(f"{path}: no profile name")
        documents.append((path, document, profile["name"]))
    labels = unique_labels([name for _, _, name in documents])
    return [
        run_from_document(document, label, str(path))
        for (path, document, _), label in zip(documents, labels, strict=True)
    ]


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


def compare(runs: Sequence[LabelledRun], reference: str) -> Comparison:
    """Every metric of every run side by side, each non-reference run against `reference`."""
    labels = [run.label for run in runs]
    if len(runs) < 2:
        raise ValueError("a comparison needs at least two runs")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be unique (got {labels}); see unique_labels")
    if reference not in labels:
        raise ValueError(f"reference {reference!r} is not one of {labels}")
    by_label = {run.label: run for run in runs}
    succeeded = {run.label: [s for s in run.sessions if s["ok"]] for run in runs}

    time_to_qr = _metric(
        TIME_TO_QR,
        dict.fromkeys(labels, MetricKind.TOTAL),
        {
            label: [s["time_to_qr_ms"] for s in sessions if s["time_to_qr_ms"] is not None]
            for label, sessions in succeeded.items()
        },
        reference,
    )
    stages = [
        _metric(name, kinds, samples, reference)
        for name, kinds, samples in _stage_samples(labels, succeeded)
    ]
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
        failures={run.label: _failures(run.sessions) for run in runs},
        caveats=[
            *(caveat for run in runs for caveat in _run_caveats(run, time_to_qr)),
            *_environment_caveats(runs),
        ],
        headlines={
            label: _headline(label, reference, time_to_qr, success)
            for label in labels
            if label != reference
        },
    )


def _metric(
    name: str,
    kinds: dict[str, MetricKind],
    samples: Mapping[str, list[float]],
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


def _stage_samples(
    labels: list[str], succeeded: Mapping[str, list[dict[str, Any]]]
) -> list[tuple[str, dict[str, MetricKind], dict[str, list[float]]]]:
    """Stage durations of successful sessions, stages in the order they first appear."""
    durations: dict[str, dict[str, list[float]]] = {}
    kinds: dict[str, dict[str, MetricKind]] = {}
    for label in labels:
        for session in succeeded[label]:
            for stage in session["stages"]:
                per_label = durations.setdefault(stage["name"], {name: [] for name in labels})
                per_label[label].append(stage["duration_ms"])
                kinds.setdefault(stage["name"], {})[label] = (
                    MetricKind.CRITICAL if stage["critical"] else MetricKind.BACKGROUND
                )
    return [(name, kinds[name], samples) for name, samples in durations.items()]


def _success_rate(run: LabelledRun, reference: LabelledRun, *, is_reference: bool) -> SuccessRate:
    succeeded = sum(1 for s in run.sessions if s["ok"])
    measured = len(run.sessions)
    p_value = None
    if not is_reference and measured and reference.sessions:
        reference_succeeded = sum(1 for s in reference.sessions if s["ok"])
        p_value = fisher_p_value(succeeded, measured, reference_succeeded, len(reference.sessions))
    return SuccessRate(succeeded=succeeded, measured=measured, p_value=p_value)


def _failures(sessions: list[dict[str, Any]]) -> list[FailureCount]:
    return count_failures([SessionError(**s["error"]) for s in sessions if s["error"] is not None])


def _run_caveats(run: LabelledRun, time_to_qr: MetricComparison) -> list[Caveat]:
    label = run.label
    caveats = []
    summary = time_to_qr.summaries[label]
    if summary is not None and too_few_runs(summary.n):
        caveats.append(
            Caveat(
                CaveatKind.TOO_FEW_RUNS,
                label,
                f"{label}: only {summary.n} successful run(s); no difference is called "
                f"significant below {FEW_RUNS} per profile",
                f"measure again with --runs {FEW_RUNS} or more (10 or more for small differences)",
            )
        )
    if summary is not None and is_noisy(summary):
        caveats.append(
            Caveat(
                CaveatKind.NOISY,
                label,
                f"{label}: time-to-QR is noisy (CV {summary.cv:.0%} > {NOISY_CV:.0%})",
                "close other programs, then add runs: noise hides small differences",
            )
        )
    timed = [s for s in run.sessions if s["ok"] and s["time_to_qr_ms"] is not None]
    values = [s["time_to_qr_ms"] for s in timed]
    outliers = [timed[index] for index in outlier_indices(values)]
    if outliers:
        listed = ", ".join(
            f"session {s['number']} ({format_ms(s['time_to_qr_ms'])} ms)" for s in outliers
        )
        caveats.append(
            Caveat(
                CaveatKind.OUTLIERS,
                label,
                f"{label}: time-to-QR outlier(s), modified z-score > {OUTLIER_Z}: {listed}",
                "check those sessions in the results file (errors, a cold cache, other load); "
                "medians and the rank test resist outliers, means do not",
            )
        )
    if first_run_slow(values):
        caveats.append(
            Caveat(
                CaveatKind.FIRST_RUN_SLOW,
                label,
                f"{label}: the first measured run ({format_ms(values[0])} ms) is more than "
                f"{FIRST_RUN_SLOW_FACTOR:g}x the median of the rest",
                "raise --warmup so cold caches and first-launch costs stay out of the numbers",
            )
        )
    load = run.environment.get("load_average")
    cores = run.environment.get("cpu_cores")
    if (
        isinstance(load, list)
        and all(isinstance(value, int | float) for value in load)
        and isinstance(cores, int)
        and machine_busy(load, cores)
    ):
        caveats.append(
            Caveat(
                CaveatKind.MACHINE_BUSY,
                label,
                f"{label}: load average {load[0]:g} on {cores} core(s) when the run started",
                "wait until the machine is idle (load below the core count) and measure again",
            )
        )
    return caveats


def _environment_caveats(runs: Sequence[LabelledRun]) -> list[Caveat]:
    caveats = []
    for key, what in ENVIRONMENT_KEYS.items():
        values = {run.label: run.environment.get(key) for run in runs}
        if len({str(value) for value in values.values()}) > 1:
            listed = ", ".join(f"{label} {value}" for label, value in values.items())
            caveats.append(
                Caveat(
                    CaveatKind.ENVIRONMENTS_DIFFER,
                    None,
                    f"{what} differs between the runs: {listed}",
                    "compare runs from one machine and one Chromium build; otherwise the "
                    "ratio measures the machines too",
                )
            )
    return caveats


def _headline(
    label: str, reference: str, time_to_qr: MetricComparison, success: Mapping[str, SuccessRate]
) -> str:
    mine, theirs = time_to_qr.summaries[label], time_to_qr.summaries[reference]
    found = time_to_qr.differences[label]
    if mine is None or theirs is None or found is None:
        text = (
            f"{label}: time-to-QR {_median_seconds(mine)} vs {reference} "
            f"{_median_seconds(theirs)}, nothing to compare"
        )
    else:
        text = (
            f"{label}: time-to-QR {format_seconds(mine.median)} vs {reference} "
            f"{format_seconds(theirs.median)}, {describe_difference(found)}"
        )
    rate, reference_rate = success[label], success[reference]
    if rate.succeeded * reference_rate.measured != reference_rate.succeeded * rate.measured:
        text += (
            f"; success {describe_success(rate)} vs {describe_success(reference_rate)}, "
            f"{describe_success_difference(rate, reference_rate)}"
        )
    return text


def _median_seconds(summary: MetricSummary | None) -> str:
    return "no successful session" if summary is None else format_seconds(summary.median)


def format_ms(value: float) -> str:
    # Sub-10 ms stages (auth, cache lookups) would all read "0" without a decimal.
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def format_seconds(value_ms: float) -> str:
    seconds = value_ms / 1000
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:,.1f} s"


def _factor(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:,.1f}"


def format_p_value(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.2g}"


def _ratio_ci(ratio: RatioOfMedians, *, faster: bool) -> str:
    low, high = (1 / ratio.ci_high, 1 / ratio.ci_low) if faster else (ratio.ci_low, ratio.ci_high)
    return f"95 % CI {_factor(low)}-{_factor(high)}x"


def ratio_phrase(found: Difference) -> str:
    """`2.00x faster` rather than `0.50x`: a factor reads the same in both directions.

    A significant difference takes the test's direction; any other the medians'.
    """
    match found.significance:
        case Significance.FASTER:
            faster = True
        case Significance.SLOWER:
            faster = False
        case Significance.NOT_SIGNIFICANT | Significance.TOO_FEW_RUNS:
            if found.ratio is None:
                return NO_RATIO
            faster = found.ratio.value < 1
        case _:
            assert_never(found.significance)
    if found.ratio is None:
        return f"{found.significance.value}, {NO_RATIO}"
    if faster:
        return f"{_factor(1 / found.ratio.value)}x faster"
    return f"{_factor(found.ratio.value)}x slower"


def evidence(found: Difference) -> str:
    """What backs `ratio_phrase`: the CI and p-value, or why no difference is claimed."""
    p_value = format_p_value(found.test.p_value)
    match found.significance:
        case Significance.FASTER | Significance.SLOWER:
            if found.ratio is None:
                return p_value
            faster = found.significance is Significance.FASTER
            return f"{_ratio_ci(found.ratio, faster=faster)}, {p_value}"
        case Significance.NOT_SIGNIFICANT:
            return f"not significant ({p_value})"
        case Significance.TOO_FEW_RUNS:
            return f"too few runs to tell (needs {FEW_RUNS} per profile)"
        case _:
            assert_never(found.significance)


def describe_difference(found: Difference) -> str:
    """E.g. `8.90x slower (95 % CI 8.10-9.70x, p < 0.001)`, `1.02x slower, not significant`."""
    if found.significance in (Significance.FASTER, Significance.SLOWER):
        return f"{ratio_phrase(found)} ({evidence(found)})"
    return f"{ratio_phrase(found)}, {evidence(found)}"


def describe_kind(metric: MetricComparison) -> str:
    """`critical`, or `critical (new); background (old, optimized)` where profiles disagree."""
    labels_by_kind: dict[MetricKind, list[str]] = {}
    for label, kind in metric.kinds.items():
        labels_by_kind.setdefault(kind, []).append(label)
    if len(labels_by_kind) == 1:
        return next(iter(labels_by_kind)).value
    return "; ".join(
        f"{kind.value} ({', '.join(labels)})" for kind, labels in labels_by_kind.items()
    )


def describe_success(rate: SuccessRate) -> str:
    if not rate.measured:
        return "0/0"
    return f"{rate.succeeded}/{rate.measured} ({rate.succeeded / rate.measured:.0%})"


def describe_success_difference(rate: SuccessRate, reference: SuccessRate) -> str:
    """The success rate against the reference's, by Fisher's exact test."""
    if rate.p_value is None:
        return "no sessions to compare"
    evidence = f"Fisher {format_p_value(rate.p_value)}"
    if too_few_runs(rate.measured) or too_few_runs(reference.measured):
        return f"too few runs to tell ({evidence})"
    if rate.p_value >= SIGNIFICANCE_LEVEL:
        return f"not significant ({evidence})"
    lower = rate.succeeded * reference.measured < reference.succeeded * rate.measured
    return f"{'lower' if lower else 'higher'} ({evidence})"
