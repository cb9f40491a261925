"""An explanation in words: the study's impact table, a row per knob group."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never

from qrbench.analysis.explain.attribution import (
    DirectionEffects,
    Explanation,
    GroupEffect,
    Saving,
    StageMove,
)
from qrbench.analysis.explain.knobs import KnobChange
from qrbench.analysis.explain.plan import Direction
from qrbench.analysis.stats import FEW_RUNS, Significance
from qrbench.report.wording.numbers import (
    format_change_ms,
    format_ci,
    format_p_value,
    format_share,
)


def describe_significance(found: Saving) -> str:
    """`significant (p = 0.008)`; the sign of the saving says whether it saves or costs."""
    p_value = format_p_value(found.p_value)
    match found.significance:
        case Significance.FASTER | Significance.SLOWER:
            return f"significant ({p_value})"
        case Significance.NOT_SIGNIFICANT:
            return f"not significant ({p_value})"
        case Significance.TOO_FEW_RUNS:
            return f"too few runs (< {FEW_RUNS} a side)"
        case _:
            assert_never(found.significance)


def _short_key(key: str) -> str:
    # Within a group's row the section is implied: `mode`, not `webhook.mode`.
    return key.split(".", 1)[1] if "." in key else key


def _value(value: Any, other: Any) -> str:
    if (
        isinstance(value, list)
        and isinstance(other, list)
        and sorted(map(str, value)) != sorted(map(str, other))
    ):
        # Long flag lists differ in a few items: show those, not both lists in full.
        own = [str(item) for item in value if item not in other]
        return "+" + " +".join(own) if own else "(only shared flags)"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"  # as written in YAML
    return "null" if value is None else str(value)


def describe_values(changes: Sequence[KnobChange], *, fast: bool) -> list[str]:
    """One `key: value` per changed key, on the slow or the fast side."""
    return [
        f"{_short_key(change.key)}: "
        + (
            _value(change.fast_value, change.slow_value)
            if fast
            else _value(change.slow_value, change.fast_value)
        )
        for change in changes
    ]


def describe_stage_move(move: StageMove) -> str:
    if move.slow_median_ms is None:
        return f"{move.stage} appears"
    if move.fast_median_ms is None:
        return f"{move.stage} gone"
    text = f"{move.stage} {format_change_ms(move.slow_median_ms - move.fast_median_ms)}"
    if move.slow_kind != move.fast_kind and move.slow_kind and move.fast_kind:
        text += f" ({move.slow_kind.value} -> {move.fast_kind.value})"
    return text


def describe_estimate(effect: GroupEffect) -> str:
    """E.g. `estimated -5.00 s, measured -20 ms, not significant (p = 0.61)`."""
    if effect.estimate is None:
        return ""
    text = f"estimated {format_change_ms(effect.estimate.saving_ms)}"
    if effect.saving is None:
        return f"{text}, not measured (no successful session)"
    measured = format_change_ms(effect.saving.value_ms)
    return f"{text}, measured {measured}, {describe_significance(effect.saving)}"


def direction_title(effects: DirectionEffects, explanation: Explanation) -> str:
    match effects.direction:
        case Direction.FORWARD:
            return (
                f"forward: {explanation.slow} with one group at a time set as in {explanation.fast}"
            )
        case Direction.BACKWARD:
            return (
                f"backward: {explanation.fast} with one group at a time set back as in "
                f"{explanation.slow}"
            )
        case Direction.BOTH:
            raise ValueError("`both` runs as a forward and a backward direction")
        case _:
            assert_never(effects.direction)


def explanation_headline(explanation: Explanation) -> str:
    """E.g. `new 12.40 s -> optimized 1.52 s on lan: -10.88 s (95 % CI ...), saves (p < 0.001)`."""
    slow, fast = explanation.slow_median_ms, explanation.fast_median_ms
    text = (
        f"{explanation.slow} {_seconds(slow)} -> {explanation.fast} {_seconds(fast)} "
        f"median time-to-QR on {explanation.scenario}"
    )
    total = explanation.total
    if total is None:
        return f"{text}: no gap to split (a side had no successful session)"
    text += (
        f": total gap {format_change_ms(total.value_ms)} "
        f"(95 % CI {format_ci(total.ci_low_ms, total.ci_high_ms)}), {describe_significance(total)}"
    )
    for effects in explanation.directions:
        if effects.sum_of_savings_ms is not None and effects.remainder is not None:
            singles = format_change_ms(effects.sum_of_savings_ms)
            rest = format_change_ms(effects.remainder.value_ms)
            text += f"; {effects.direction.value}: single groups {singles} + remainder {rest}"
    return text


def _seconds(value_ms: float | None) -> str:
    return "-" if value_ms is None else f"{value_ms / 1000:.2f} s"


class RowKind(StrEnum):
    GROUP = "group"
    REMAINDER = "remainder"
    TOTAL = "total"


@dataclass(frozen=True)
class ImpactRow:
    """One row of the study's impact table, in words; the screen and Markdown lay it out."""

    kind: RowKind
    knob: str
    slow_values: list[str]
    fast_values: list[str]
    saving: str
    # What backs the saving (significance), or why there is none.
    verdict: str
    # For colour: None where no test applies (the remainder, a missing saving).
    significance: Significance | None
    ci: str
    share: str
    stages: list[str]
    # The guessed saving alone, and the sentence that sets it against the measured one.
    estimate: str
    estimate_sentence: str
    estimate_note: str = ""


def impact_rows(explanation: Explanation, effects: DirectionEffects) -> list[ImpactRow]:
    """A row per switched group, then the interaction remainder, then the total gap."""
    rows = []
    for effect in effects.groups:
        found = effect.saving
        estimate = effect.estimate
        rows.append(
            ImpactRow(
                kind=RowKind.GROUP,
                knob=effect.title,
                slow_values=describe_values(effect.changes, fast=False),
                fast_values=describe_values(effect.changes, fast=True),
                saving="-" if found is None else format_change_ms(found.value_ms),
                verdict="no successful session" if found is None else describe_significance(found),
                significance=None if found is None else found.significance,
                ci="-" if found is None else format_ci(found.ci_low_ms, found.ci_high_ms),
                share=format_share(effect.share),
                stages=[describe_stage_move(move) for move in effect.stages],
                estimate="" if estimate is None else format_change_ms(estimate.saving_ms),
                estimate_sentence=describe_estimate(effect),
                estimate_note="" if estimate is None else estimate.note,
            )
        )
    remainder = effects.remainder
    rows.append(
        ImpactRow(
            kind=RowKind.REMAINDER,
            knob="interaction remainder",
            slow_values=[],
            fast_values=[],
            saving="-" if remainder is None else format_change_ms(remainder.value_ms),
            verdict="cannot split the gap" if remainder is None else "only in combination",
            significance=None,
            ci="-" if remainder is None else format_ci(remainder.ci_low_ms, remainder.ci_high_ms),
            share="-" if remainder is None else format_share(remainder.share),
            stages=[],
            estimate="",
            estimate_sentence="",
        )
    )
    total = explanation.total
    if total is not None:
        rows.append(
            ImpactRow(
                kind=RowKind.TOTAL,
                knob="total gap",
                slow_values=[explanation.slow],
                fast_values=[explanation.fast],
                saving=format_change_ms(total.value_ms),
                verdict=describe_significance(total),
                significance=total.significance,
                ci=format_ci(total.ci_low_ms, total.ci_high_ms),
                share="100%",
                stages=[],
                estimate="",
                estimate_sentence="",
            )
        )
    return rows
