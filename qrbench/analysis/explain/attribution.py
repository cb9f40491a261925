"""Attribute the time-to-QR gap between SLOW and FAST to the switched knob groups.

A group's *saving* is the median time-to-QR with the group's slow values minus the
median with its fast values (positive: the fast values are faster). Whatever the single
savings do not add up to is the *interaction remainder*: total gap = sum of single
savings + remainder, exactly, by definition.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.compare import LabelledRun, MetricKind, compare
from qrbench.analysis.explain.knobs import KnobChange
from qrbench.analysis.explain.plan import Direction, ExplainPlan
from qrbench.analysis.sequential import AutoStop
from qrbench.analysis.stats import (
    Significance,
    decide,
    mann_whitney,
    median_contrast,
    median_difference,
)
from qrbench.config.estimates import Estimate, Estimates


@dataclass(frozen=True)
class Saving:
    """Median time-to-QR with the slow values minus with the fast values (positive: faster)."""

    value_ms: float
    ci_low_ms: float
    ci_high_ms: float
    p_value: float
    # Of the fast-value runs against the slow-value runs: FASTER is a real saving, SLOWER a
    # real cost, as `compare` says it.
    significance: Significance


@dataclass(frozen=True)
class StageMove:
    """A stage the switch moved: significantly, or by appearing, going or changing kind."""

    stage: str
    slow_median_ms: float | None
    fast_median_ms: float | None
    slow_kind: MetricKind | None
    fast_kind: MetricKind | None
    significance: Significance | None


@dataclass(frozen=True)
class GroupEffect:
    group: str
    title: str
    changes: list[KnobChange]
    slow_side: str
    fast_side: str
    # None when either side had no successful session.
    saving: Saving | None
    # Of the total gap; None without a saving or a gap.
    share: float | None
    stages: list[StageMove]
    estimate: Estimate | None


@dataclass(frozen=True)
class Remainder:
    """Total gap minus the sum of single savings: what only shows in combination."""

    value_ms: float
    ci_low_ms: float
    ci_high_ms: float
    share: float | None


@dataclass(frozen=True)
class DirectionEffects:
    direction: Direction
    groups: list[GroupEffect]
    # None when a saving or the total is missing: then the gap cannot be split.
    sum_of_savings_ms: float | None
    remainder: Remainder | None


@dataclass(frozen=True)
class Explanation:
    slow: str
    fast: str
    scenario: str
    slow_median_ms: float | None
    fast_median_ms: float | None
    total: Saving | None
    directions: list[DirectionEffects]
    sources: dict[str, str]
    caveats: list[Caveat]
    estimates_source: str | None
    # How `--runs auto` stopped; None for --runs N.
    auto_stop: AutoStop | None = None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = asdict(self)
        return document


def saving(slow_side: Sequence[float], fast_side: Sequence[float]) -> Saving | None:
    if not slow_side or not fast_side:
        return None
    found = median_difference(slow_side, fast_side)
    test = mann_whitney(fast_side, slow_side)
    return Saving(
        value_ms=found.value,
        ci_low_ms=found.ci_low,
        ci_high_ms=found.ci_high,
        p_value=test.p_value,
        significance=decide(test),
    )


def _stage_moves(slow_side: LabelledRun, fast_side: LabelledRun) -> list[StageMove]:
    stages = compare([slow_side, fast_side], slow_side.label).stages
    moves = []
    for metric in stages:
        slow_summary = metric.summaries[slow_side.label]
        fast_summary = metric.summaries[fast_side.label]
        slow_kind, fast_kind = metric.kinds.get(slow_side.label), metric.kinds.get(fast_side.label)
        found = metric.differences[fast_side.label]
        significance = None if found is None else found.significance
        if (
            slow_summary is None
            or fast_summary is None
            or slow_kind != fast_kind
            or significance in (Significance.FASTER, Significance.SLOWER)
        ):
            moves.append(
                StageMove(
                    stage=metric.name,
                    slow_median_ms=None if slow_summary is None else slow_summary.median,
                    fast_median_ms=None if fast_summary is None else fast_summary.median,
                    slow_kind=slow_kind,
                    fast_kind=fast_kind,
                    significance=significance,
                )
            )
    return moves


def _share(value_ms: float, total: Saving | None) -> float | None:
    if total is None or total.value_ms == 0:
        return None
    return value_ms / total.value_ms


def _remainder(
    total: Saving,
    effects: list[GroupEffect],
    plan: ExplainPlan,
    samples: Mapping[str, Sequence[float]],
) -> tuple[float, Remainder]:
    sum_of_savings = sum(effect.saving.value_ms for effect in effects if effect.saving)
    # Every run once, with its weights added up, so a run used by several switches (SLOW
    # in every forward one) is resampled as the one measurement it is.
    weights: dict[str, float] = {plan.slow: 1.0}
    weights[plan.fast] = weights.get(plan.fast, 0.0) - 1.0
    for effect in effects:
        weights[effect.slow_side] = weights.get(effect.slow_side, 0.0) - 1.0
        weights[effect.fast_side] = weights.get(effect.fast_side, 0.0) + 1.0
    used = {label: weight for label, weight in weights.items() if weight != 0}
    if used:
        labels = list(used)
        spread = median_contrast([samples[label] for label in labels], [used[x] for x in labels])
        ci_low, ci_high = spread.ci_low, spread.ci_high
    else:
        ci_low = ci_high = 0.0  # every run cancels: the remainder is 0 by construction
    # The value is the difference itself, not the contrast's own sum, so that the sum of
    # single savings plus the remainder is the total gap to the last bit.
    value = total.value_ms - sum_of_savings
    return sum_of_savings, Remainder(value, ci_low, ci_high, _share(value, total))


def explain(
    plan: ExplainPlan,
    runs: Sequence[LabelledRun],
    scenario: str,
    estimates: Estimates | None = None,
) -> Explanation:
    """Attribute the gap between plan.slow and plan.fast to the switched knob groups."""
    by_label = {run.label: run for run in runs}
    missing = [c.label for c in plan.configurations if c.label not in by_label]
    if missing:
        raise ValueError(f"no sessions for {', '.join(missing)}")
    samples = {label: run.sessions.qr_times for label, run in by_label.items()}
    total = saving(samples[plan.slow], samples[plan.fast])
    directions = []
    for direction in dict.fromkeys(switch.direction for switch in plan.switches):
        effects = []
        for switch in (s for s in plan.switches if s.direction is direction):
            found = saving(samples[switch.slow_side], samples[switch.fast_side])
            effects.append(
                GroupEffect(
                    group=switch.diff.group.id,
                    title=switch.diff.group.title,
                    changes=switch.diff.changes,
                    slow_side=switch.slow_side,
                    fast_side=switch.fast_side,
                    saving=found,
                    share=None if found is None else _share(found.value_ms, total),
                    stages=_stage_moves(by_label[switch.slow_side], by_label[switch.fast_side]),
                    estimate=None
                    if estimates is None
                    else estimates.by_group.get(switch.diff.group.id),
                )
            )
        complete = total is not None and all(effect.saving for effect in effects)
        if complete and total is not None:
            sum_of_savings, remainder = _remainder(total, effects, plan, samples)
            directions.append(DirectionEffects(direction, effects, sum_of_savings, remainder))
        else:
            directions.append(DirectionEffects(direction, effects, None, None))
    ordered = [by_label[c.label] for c in plan.configurations]
    return Explanation(
        slow=plan.slow,
        fast=plan.fast,
        scenario=scenario,
        slow_median_ms=_median(samples[plan.slow]),
        fast_median_ms=_median(samples[plan.fast]),
        total=total,
        directions=directions,
        sources={run.label: run.source for run in ordered},
        caveats=_one_busy_caveat(compare(ordered, plan.slow).caveats),
        estimates_source=None if estimates is None else estimates.source,
    )


def _one_busy_caveat(caveats: list[Caveat]) -> list[Caveat]:
    """Interleaved runs all start at one moment, so a busy machine is one warning, not one
    per variant; the other caveats concern each run's own sessions and stay as they are."""
    busy = [caveat for caveat in caveats if caveat.kind is CaveatKind.MACHINE_BUSY]
    if len(busy) < 2:
        return caveats
    merged = replace(busy[0], label=None, runs=len(busy))
    return [merged, *(caveat for caveat in caveats if caveat.kind is not CaveatKind.MACHINE_BUSY)]


def _median(values: Sequence[float]) -> float | None:
    return None if not values else float(np.median(values))
