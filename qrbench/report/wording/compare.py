"""A comparison in words: ratios, their evidence, success rates and the headlines."""

from typing import assert_never

from qrbench.analysis.compare import Comparison, MetricComparison, MetricKind, SuccessRate
from qrbench.analysis.stats import (
    FEW_RUNS,
    SIGNIFICANCE_LEVEL,
    Difference,
    MetricSummary,
    RatioOfMedians,
    Significance,
    too_few_runs,
)
from qrbench.report.wording.numbers import (
    format_factor,
    format_p_value,
    format_rate,
    format_seconds,
)

NO_RATIO = "no ratio (reference 0 ms)"

SAME_MEDIAN = "same median"


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
        case Significance.NOT_SIGNIFICANT | Significance.TOO_FEW_RUNS:
            if found.ratio is None:
                return NO_RATIO
            faster = found.ratio.value < 1
        case _:
            assert_never(found.significance)
    if found.ratio is None:
        return f"{found.significance.value}, {NO_RATIO}"
    factor = format_factor(1 / found.ratio.value if faster else found.ratio.value)
    if factor == format_factor(1):
        return SAME_MEDIAN
    if found.significance is Significance.TOO_FEW_RUNS:
        return f"median ratio {format_factor(found.ratio.value)}x"
    return f"{factor}x {'faster' if faster else 'slower'}"


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
