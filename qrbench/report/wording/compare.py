"""A comparison in words: ratios, their evidence, success rates and the headlines."""

from typing import assert_never

from qrbench.analysis.compare import (
    SPAN_PREFIX,
    Comparison,
    MetricComparison,
    MetricKind,
    SuccessRate,
)
from qrbench.analysis.stats import (
    FEW_RUNS,
    SIGNIFICANCE_LEVEL,
    Difference,
    MetricSummary,
    RatioOfMedians,
    Significance,
    smallest_p_value,
    too_few_runs,
)
from qrbench.report.wording.numbers import (
    format_bare_p,
    format_factor,
    format_p_value,
    format_rate,
    format_seconds,
)

NO_RATIO = "no ratio (reference 0 ms)"
SHORT_NO_RATIO = "ref 0 ms"

SAME_MEDIAN = "same median"

# A table cell where the test found no difference; `table_notes` says what it means.
NOT_SIGNIFICANT_CELL = "n.s."

TOO_FEW_RUNS = f"too few runs to tell (needs {FEW_RUNS} per profile)"

# A stage off the critical path (not in time-to-QR), marked after its name in tables.
BACKGROUND_MARK = " (bg)"
MIXED_KIND_MARK = " *"
# A gateway's span, set apart from qrbench's own stages.
SPAN_MARK = "↳ "


def _ratio_ci(ratio: RatioOfMedians, *, faster: bool) -> str:
    low, high = (1 / ratio.ci_high, 1 / ratio.ci_low) if faster else (ratio.ci_low, ratio.ci_high)
    return f"95 % CI {format_factor(low)}-{format_factor(high)}x"


def ratio_phrase(found: Difference) -> str:
    """`2.00x faster` rather than `0.50x`: a factor reads the same in both directions.

    A significant difference takes the test's direction; a non-significant one the
    medians'. With too few runs no judgement was made, so no direction either: the ratio
    alone (`median ratio 1.34x`). A ratio that rounds to 1.00x reads `same median`: "1.00x
    slower" contradicts itself.
    """
    match found.significance:
        case Significance.FASTER:
            faster = True
        case Significance.SLOWER:
            faster = False
        case Significance.NOT_SIGNIFICANT:
            if found.ratio is None:
                return NO_RATIO
            faster = found.ratio.value < 1
        case Significance.TOO_FEW_RUNS:
            bare = _bare_ratio(found.ratio)
            return bare if bare in (NO_RATIO, SAME_MEDIAN) else f"median {bare}"
        case _:
            assert_never(found.significance)
    if found.ratio is None:
        return f"{found.significance.value}, {NO_RATIO}"
    factor = format_factor(1 / found.ratio.value if faster else found.ratio.value)
    if factor == format_factor(1):
        return SAME_MEDIAN
    return f"{factor}x {'faster' if faster else 'slower'}"


def _bare_ratio(ratio: RatioOfMedians | None) -> str:
    """A ratio with no verdict, so no direction: `ratio 1.34x`, `same median`, `no ratio`."""
    if ratio is None:
        return NO_RATIO
    if format_factor(ratio.value) == format_factor(1):
        return SAME_MEDIAN
    return f"ratio {format_factor(ratio.value)}x"


def p_values(found: Difference) -> str:
    """`p = 0.016`, or with the family's adjustment that decided: `p = 0.016, Holm 0.17`."""
    raw = format_p_value(found.test.p_value)
    if found.adjusted_p_value == found.test.p_value:
        return raw
    return f"{raw}, Holm {format_bare_p(found.adjusted_p_value)}"


def evidence(found: Difference) -> str:
    """What backs `ratio_phrase`: the CI and p-value, or why no difference is claimed."""
    p_value = p_values(found)
    match found.significance:
        case Significance.FASTER | Significance.SLOWER:
            if found.ratio is None:
                return p_value
            faster = found.significance is Significance.FASTER
            return f"{_ratio_ci(found.ratio, faster=faster)}, {p_value}"
        case Significance.NOT_SIGNIFICANT:
            return f"not significant ({p_value})"
        case Significance.TOO_FEW_RUNS:
            return TOO_FEW_RUNS
        case _:
            assert_never(found.significance)


def short_difference(found: Difference | None) -> str:
    """A table cell: a direction only where the test called one (`1.72x slower`), `n.s.`
    where it did not, the bare ratio (`ratio 1.05x`) where too few runs were judged."""
    if found is None:
        return "-"
    match found.significance:
        case Significance.FASTER | Significance.SLOWER:
            if found.ratio is None:
                return found.significance.value
            return ratio_phrase(found)
        case Significance.NOT_SIGNIFICANT:
            return NOT_SIGNIFICANT_CELL
        case Significance.TOO_FEW_RUNS:
            return SHORT_NO_RATIO if found.ratio is None else _bare_ratio(found.ratio)
        case _:
            assert_never(found.significance)


def short_p_value(found: Difference | None) -> str:
    """The p value that decided (Holm-adjusted in a family), `-` where none was judged."""
    if found is None or found.significance is Significance.TOO_FEW_RUNS:
        return "-"
    return format_bare_p(found.adjusted_p_value)


def short_fisher(p_value: float) -> str:
    """The success rate's Fisher p in the p column, named: it is judged alone."""
    return f"F {format_bare_p(p_value)}"


def marked_name(metric: MetricComparison) -> str:
    """A stage's name, marked ` (bg)` when off the critical path in every profile and ` *`
    when profiles disagree (`kind_notes` says how); a gateway's span's, marked `↳ `."""
    kinds = set(metric.kinds.values())
    if kinds == {MetricKind.SPAN}:
        return SPAN_MARK + metric.name.removeprefix(SPAN_PREFIX)
    if len(kinds) > 1:
        return metric.name + MIXED_KIND_MARK
    if kinds == {MetricKind.BACKGROUND}:
        return metric.name + BACKGROUND_MARK
    return metric.name


def short_success_difference(rate: SuccessRate, reference: SuccessRate) -> str:
    """`lower`/`higher` where Fisher's test calls it, `n.s.` where not, `-` untested."""
    if rate.p_value is None or too_few_runs(rate.measured) or too_few_runs(reference.measured):
        return "-"
    if rate.p_value >= SIGNIFICANCE_LEVEL:
        return NOT_SIGNIFICANT_CELL
    lower = rate.succeeded * reference.measured < reference.succeeded * rate.measured
    return "lower" if lower else "higher"


def runs_for_family(size: int) -> int:
    """The fewest runs a side at which a family of `size` tests can call any difference
    (the smallest attainable p, times `size`, below the level)."""
    runs = FEW_RUNS
    while smallest_p_value(runs, runs) * size >= SIGNIFICANCE_LEVEL:
        runs += 1
    return runs


def family_note(sizes: dict[str, int], reference: str, *, time_to_qr_alone: bool) -> str | None:
    """How significance was decided: the Holm family of each comparison with `reference`."""
    judged = {label: size for label, size in sizes.items() if size}
    if not judged:
        return None
    counts = sorted(set(judged.values()))
    what = "stages" if time_to_qr_alone else "metrics"
    if len(counts) == 1:
        across = f"{counts[0]} {what}"
    else:
        across = ", ".join(f"{size} {what} for {label}" for label, size in judged.items())
    note = (
        f"significance: Holm-adjusted across {across} vs {reference}, family alpha "
        f"{SIGNIFICANCE_LEVEL:g}"
    )
    if time_to_qr_alone:
        note += f"; time-to-QR, the primary check, alone at {SIGNIFICANCE_LEVEL:g}"
    return note


def reach_notes(families: dict[tuple[int, int, int], list[str]]) -> list[str]:
    """A note for each family no difference could pass at its run counts; `families` maps
    (runs, reference runs, family size) to the labels compared so, those alike in one note."""
    notes = []
    for (n_sample, n_reference, size), labels in families.items():
        smallest = smallest_p_value(n_sample, n_reference)
        if smallest * size >= SIGNIFICANCE_LEVEL:
            notes.append(
                f"{', '.join(labels)}: at {n_sample} and {n_reference} runs no p falls below "
                f"{smallest:.2g}, too large for {size} tests: nothing can be called "
                f"significant; use --runs {runs_for_family(size)} or more"
            )
    return notes


def kind_notes(metrics: list[MetricComparison]) -> list[str]:
    """The legend of `marked_name`'s marks, for the marks the table shows."""
    notes = []
    if any(marked_name(metric).endswith(BACKGROUND_MARK) for metric in metrics):
        notes.append(f"{BACKGROUND_MARK.strip()}: background stage, not part of time-to-QR")
    if any(marked_name(metric).startswith(SPAN_MARK) for metric in metrics):
        notes.append(
            f"{SPAN_MARK.strip()}: a span the gateway exported (OpenTelemetry), in every "
            "successful session of the profiles that show it; it lies inside the stages"
        )
    for metric in metrics:
        if marked_name(metric).endswith(MIXED_KIND_MARK):
            notes.append(f"{metric.name}{MIXED_KIND_MARK}: {describe_kind(metric)}")
    return notes


def verdict_legend(differences: list[Difference]) -> list[str]:
    """What the shortened cells mean, for the kinds of cell the table shows."""
    shown = {found.significance for found in differences}
    notes = []
    if shown & {Significance.FASTER, Significance.SLOWER, Significance.NOT_SIGNIFICANT}:
        notes.append(
            f"faster/slower: significant (Mann-Whitney U); {NOT_SIGNIFICANT_CELL}: not "
            "significant, the medians may differ by noise alone"
        )
    if Significance.TOO_FEW_RUNS in shown:
        notes.append(f"ratio: the medians' ratio, no verdict: {TOO_FEW_RUNS}")
    return notes


def table_notes(comparison: Comparison, *, p_column: bool) -> list[str]:
    """The comparison table's footnotes: each mark and caveat said once, not in every row;
    with `p_column` the legend of the success rate's p value too."""
    metrics = [*comparison.stages, comparison.time_to_qr]
    differences = [
        found for metric in metrics for found in metric.differences.values() if found is not None
    ]
    fisher = ["F: the success rate's p, by Fisher's exact test on its own"] if p_column else []
    return [
        *kind_notes(comparison.stages),
        *verdict_legend(differences),
        *fisher,
        *comparison_significance_notes(comparison),
    ]


def comparison_significance_notes(comparison: Comparison) -> list[str]:
    """How the verdicts were judged (the Holm family), and where none could be reached."""
    family = family_note(
        {label: len(family) for label, family in comparison.families.items()},
        comparison.reference,
        time_to_qr_alone=False,
    )
    alike: dict[tuple[int, int, int], list[str]] = {}
    for label, members in comparison.families.items():
        found = comparison.time_to_qr.differences[label]
        if members and found is not None:
            sizes = (found.test.n_sample, found.test.n_reference, len(members))
            alike.setdefault(sizes, []).append(label)
    spans = {label: len(members) for label, members in comparison.span_families.items()}
    span_note = None
    if any(spans.values()):
        sizes = sorted(set(size for size in spans.values() if size))
        across = " or ".join(str(size) for size in sizes)
        span_note = (
            f"spans: Holm-adjusted across {across} span(s) vs {comparison.reference}, a family "
            "of their own"
        )
    return [
        *([] if family is None else [family]),
        *([] if span_note is None else [span_note]),
        *reach_notes(alike),
    ]


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
    return format_rate(rate.succeeded, rate.measured)


def describe_success_difference(rate: SuccessRate, reference: SuccessRate) -> str:
    """The success rate against the reference's, by Fisher's exact test."""
    if rate.p_value is None:
        return "no sessions to compare"
    fisher = f"Fisher {format_p_value(rate.p_value)}"
    if too_few_runs(rate.measured) or too_few_runs(reference.measured):
        return f"too few runs to tell ({fisher})"
    if rate.p_value >= SIGNIFICANCE_LEVEL:
        return f"not significant ({fisher})"
    lower = rate.succeeded * reference.measured < reference.succeeded * rate.measured
    return f"{'lower' if lower else 'higher'} ({fisher})"


def headline(comparison: Comparison, label: str) -> str:
    """E.g. `new: time-to-QR 9.80 s vs old 1.10 s, 8.90x slower (95 % CI ..., p < 0.001)`."""
    reference = comparison.reference
    time_to_qr = comparison.time_to_qr
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
    rate, reference_rate = comparison.success[label], comparison.success[reference]
    if rate.succeeded * reference_rate.measured != reference_rate.succeeded * rate.measured:
        text += (
            f"; success {describe_success(rate)} vs {describe_success(reference_rate)}, "
            f"{describe_success_difference(rate, reference_rate)}"
        )
    return text


def headlines(comparison: Comparison) -> dict[str, str]:
    """By label, for every profile but the reference."""
    return {
        label: headline(comparison, label)
        for label in comparison.labels
        if label != comparison.reference
    }


def _median_seconds(summary: MetricSummary | None) -> str:
    return "no successful session" if summary is None else format_seconds(summary.median)
