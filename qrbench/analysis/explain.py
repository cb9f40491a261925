"""What each configuration knob costs: the study's impact table, measured.

`qrbench explain SLOW FAST` splits the two profiles' differences into the study's knob
groups, runs SLOW, FAST and, per group, one profile with only that group switched, and
attributes the time-to-QR gap to the groups. A group's *saving* is the median time-to-QR
with the group's slow values minus the median with its fast values (positive: the fast
values are faster). Whatever the single savings do not add up to is the *interaction
remainder*: total gap = sum of single savings + remainder, exactly, by definition.

The core takes data, not files, and never prints; the CLI runs the sessions.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, assert_never

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qrbench.analysis.compare import (
    Caveat,
    CaveatKind,
    LabelledRun,
    MetricKind,
    compare,
    format_p_value,
    unique_labels,
)
from qrbench.analysis.stats import (
    FEW_RUNS,
    Significance,
    decide,
    mann_whitney,
    median_contrast,
    median_difference,
)
from qrbench.config.loader import ProfileError, load_yaml_model
from qrbench.config.models import Profile, profile_to_dict
from qrbench.errors import ConfigError

# --- the knob groups --------------------------------------------------------------------


@dataclass(frozen=True)
class KnobGroup:
    # In variant labels (`new+webhook`) and estimates files.
    id: str
    # As the study names it, for people.
    title: str
    # Dotted key paths of the Profile model; `section.*` is every key below `section`.
    keys: tuple[str, ...]


# The one table that says which key belongs to which knob group. Sections that the study
# splits (auth, browser) list their keys one by one, so that a key added to them later
# fails test_every_profile_key_is_placed until someone decides where it belongs.
KNOB_GROUPS: tuple[KnobGroup, ...] = (
    KnobGroup(
        "auth",
        "auth",
        ("auth.strategy", "auth.remoteauth_for", "auth.backup_sync_interval_ms", "auth.store.*"),
    ),
    KnobGroup(
        "timeouts",
        "timeouts",
        (
            "browser.timeout_ms",
            "browser.protocol_timeout_ms",
            "browser.navigation_timeout_ms",
            "browser.auth_timeout_ms",
            "retry.*",
        ),
    ),
    KnobGroup(
        "chromium_args", "Chromium args", ("browser.args", "browser.headless", "browser.user_agent")
    ),
    KnobGroup("web_version_cache", "web-version cache", ("web_version", "web_version_cache.*")),
    KnobGroup("webhook", "webhook", ("webhook.*",)),
    KnobGroup("db_updates", "DB updates", ("db.*",)),
    KnobGroup("routing", "routing", ("routing.*",)),
    KnobGroup("chat_sync", "chat sync", ("chat_sync.*",)),
    KnobGroup("qr_options", "QR options", ("qr.*",)),
)
GROUPS_BY_ID = {group.id: group for group in KNOB_GROUPS}

# Never switched: what names the profile, what judges it, and where this machine keeps
# Chromium and its data; switching them would measure the machine, not the gateway.
NOT_KNOBS: tuple[str, ...] = (
    "name",
    "description",
    "target.*",
    "gate.*",
    "browser.executable_path",
    "auth.data_path",
)
NOT_A_KNOB = "not a knob"


def _matches(pattern: str, key: str) -> bool:
    if pattern.endswith(".*"):
        return key.startswith(pattern[:-1])
    return key == pattern


def owners(key: str) -> list[str]:
    """Every knob group id (or NOT_A_KNOB) whose table entry covers `key`; one when placed."""
    found = [group.id for group in KNOB_GROUPS if any(_matches(p, key) for p in group.keys)]
    if any(_matches(pattern, key) for pattern in NOT_KNOBS):
        found.append(NOT_A_KNOB)
    return found


def group_of(key: str) -> KnobGroup | None:
    """The knob group of a Profile key; None for a key that is not a knob."""
    found = owners(key)
    if len(found) != 1:
        # A bug in the table, which test_explain's placement test exists to catch.
        placed = ", ".join(found) or "nothing"
        raise LookupError(f"profile key {key} must be in one knob group (is in {placed})")
    return None if found[0] == NOT_A_KNOB else GROUPS_BY_ID[found[0]]


def leaf_keys(model: type[BaseModel] = Profile, prefix: str = "") -> list[str]:
    """Dotted paths of the model's values (a list, such as browser.args, is one value)."""
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


# --- diffing and switching --------------------------------------------------------------


@dataclass(frozen=True)
class KnobChange:
    key: str
    # As `profiles show` prints them (JSON types, secrets redacted).
    slow_value: Any
    fast_value: Any


@dataclass(frozen=True)
class GroupDiff:
    group: KnobGroup
    changes: list[KnobChange]


def _get(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    return value


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    *sections, last = key.split(".")
    for part in sections:
        data = data[part]
    data[last] = value


def diff_profiles(slow: Profile, fast: Profile) -> list[GroupDiff]:
    """The knob groups in which the two profiles differ, in the study's order."""
    # Compared unredacted (a changed secret is a change), shown redacted.
    slow_data, fast_data = slow.model_dump(mode="json"), fast.model_dump(mode="json")
    slow_shown, fast_shown = profile_to_dict(slow), profile_to_dict(fast)
    changes: dict[str, list[KnobChange]] = {}
    for key in leaf_keys():
        group = group_of(key)
        if group is None or _get(slow_data, key) == _get(fast_data, key):
            continue
        change = KnobChange(key, _get(slow_shown, key), _get(fast_shown, key))
        changes.setdefault(group.id, []).append(change)
    return [GroupDiff(group, changes[group.id]) for group in KNOB_GROUPS if group.id in changes]


def switch_group(base: Profile, source: Profile, diff: GroupDiff, name: str) -> Profile:
    """`base` with the group's keys set to `source`'s values, validated like any profile."""
    data = base.model_dump(mode="json")
    source_data = source.model_dump(mode="json")
    for change in diff.changes:
        _set(data, change.key, _get(source_data, change.key))
    data["name"] = name
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{name}: switching {diff.group.title} alone makes an invalid profile "
            f"({where}: {first['msg']})"
        ) from None


# --- the plan ---------------------------------------------------------------------------


class Direction(StrEnum):
    FORWARD = "forward"  # SLOW with one group switched to FAST's values
    BACKWARD = "backward"  # FAST with one group switched back to SLOW's values
    BOTH = "both"


def parse_direction(text: str) -> Direction:
    try:
        return Direction(text.strip().lower())
    except ValueError:
        choices = ", ".join(direction.value for direction in Direction)
        raise ConfigError(f"--direction {text}: must be one of {choices}") from None


def _ways(direction: Direction) -> list[Direction]:
    match direction:
        case Direction.FORWARD | Direction.BACKWARD:
            return [direction]
        case Direction.BOTH:
            return [Direction.FORWARD, Direction.BACKWARD]
        case _:
            assert_never(direction)


@dataclass(frozen=True)
class Configuration:
    label: str
    profile: Profile


@dataclass(frozen=True)
class Switch:
    """One group switched alone: the runs with its slow and its fast values."""

    direction: Direction
    diff: GroupDiff
    slow_side: str
    fast_side: str


@dataclass(frozen=True)
class ExplainPlan:
    slow: str
    fast: str
    groups: list[GroupDiff]
    # What to run, SLOW and FAST first; each once, however many switches use it.
    configurations: list[Configuration]
    switches: list[Switch]

    def session_count(self, runs: int, warmup: int) -> int:
        return len(self.configurations) * (runs + warmup)


def plan_explanation(slow: Profile, fast: Profile, direction: Direction) -> ExplainPlan:
    groups = diff_profiles(slow, fast)
    if not groups:
        raise ConfigError(
            f"{slow.name} and {fast.name} are identical in every knob; nothing to explain"
        )
    slow_label, fast_label = unique_labels([slow.name, fast.name])
    configurations = [Configuration(slow_label, slow), Configuration(fast_label, fast)]
    switches = []
    for way in _ways(direction):
        for diff in groups:
            # With one group, switching it alone gives the other profile itself: its
            # sessions are already measured, so the same configuration is not run twice.
            if way is Direction.FORWARD:
                label = fast_label if len(groups) == 1 else f"{slow_label}+{diff.group.id}"
                if label != fast_label:
                    configurations.append(
                        Configuration(label, switch_group(slow, fast, diff, label))
                    )
                switches.append(Switch(way, diff, slow_side=slow_label, fast_side=label))
            else:
                label = slow_label if len(groups) == 1 else f"{fast_label}-{diff.group.id}"
                if label != slow_label:
                    configurations.append(
                        Configuration(label, switch_group(fast, slow, diff, label))
                    )
                switches.append(Switch(way, diff, slow_side=label, fast_side=fast_label))
    return ExplainPlan(slow_label, fast_label, groups, configurations, switches)


# --- estimates --------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Estimate:
    # Positive: the fast values are guessed to be this much faster.
    saving_ms: float
    note: str


class _EstimateEntry(_Strict):
    saving_ms: float = Field(allow_inf_nan=False)
    note: str = ""


class _GroupEstimates(_Strict):
    """One optional guess per knob group; the fields are KNOB_GROUPS' ids (a test holds it)."""

    auth: _EstimateEntry | None = None
    timeouts: _EstimateEntry | None = None
    chromium_args: _EstimateEntry | None = None
    web_version_cache: _EstimateEntry | None = None
    webhook: _EstimateEntry | None = None
    db_updates: _EstimateEntry | None = None
    routing: _EstimateEntry | None = None
    chat_sync: _EstimateEntry | None = None
    qr_options: _EstimateEntry | None = None


class _EstimatesFile(_Strict):
    description: str = ""
    estimates: _GroupEstimates


@dataclass(frozen=True)
class Estimates:
    source: str
    description: str
    by_group: dict[str, Estimate]


ESTIMATES_DIR = Path("profiles") / "estimates"
_SHIPPED_ESTIMATES = Path(__file__).parent.parent / ESTIMATES_DIR


def resolve_estimates(ref: str, *, cwd: Path | None = None) -> Path:
    """A path, or a name looked up in ./profiles/estimates, then in the shipped ones."""
    cwd = cwd or Path.cwd()
    if "/" in ref or ref.endswith((".yaml", ".yml")):
        path = cwd / ref
        if not path.is_file():
            raise ProfileError(path, "no such estimates file")
        return path
    candidates = [cwd / ESTIMATES_DIR / f"{ref}.yaml", _SHIPPED_ESTIMATES / f"{ref}.yaml"]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        names = sorted(
            {p.stem for d in (cwd / ESTIMATES_DIR, _SHIPPED_ESTIMATES) for p in d.glob("*.yaml")}
        )
        raise ProfileError(
            candidates[0],
            f"no estimates named '{ref}' (available: {', '.join(names) or 'none'})",
        )
    return found


def load_estimates(ref: str, *, cwd: Path | None = None) -> Estimates:
    """Someone's guessed savings per knob group; every problem names file, key and line.

    ```yaml
    description: where the guesses come from
    estimates:
      webhook:
        saving_ms: 500        # guessed time-to-QR saving of the fast values
        note: "blocking webhook, 500 ms -> 0"
    ```
    """
    path = resolve_estimates(ref, cwd=cwd)
    read = load_yaml_model(_EstimatesFile, path)
    by_group = {
        group_id: Estimate(saving_ms=entry.saving_ms, note=entry.note)
        for group_id, entry in read.estimates
        if entry is not None
    }
    return Estimates(source=str(path), description=read.description, by_group=by_group)


# --- the analysis -----------------------------------------------------------------------


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

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = asdict(self)
        return document


def _times(run: LabelledRun) -> list[float]:
    return [s["time_to_qr_ms"] for s in run.sessions if s["ok"] and s["time_to_qr_ms"] is not None]


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
        significance=decide(test, len(fast_side), len(slow_side)),
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
    total: Saving, effects: list[GroupEffect], plan: ExplainPlan, samples: Mapping[str, list[float]]
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
    samples = {label: _times(run) for label, run in by_label.items()}
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
    first = busy[0]
    assert first.label is not None  # a run's caveat
    merged = Caveat(
        kind=first.kind,
        label=None,
        message=first.message.replace(f"{first.label}: ", "", 1) + f" (all {len(busy)} runs)",
        hint=first.hint,
    )
    return [merged, *(caveat for caveat in caveats if caveat.kind is not CaveatKind.MACHINE_BUSY)]


def _median(values: list[float]) -> float | None:
    return None if not values else float(np.median(values))


# --- words for the tables (shared by the screen and the exports) ------------------------


def format_change_ms(saving_ms: float, *, unit: bool = True) -> str:
    """A saving written the study's way, as the change in time-to-QR: `-401 ms`, `-5.02 s`."""
    change = -saving_ms
    size = abs(change)
    sign = "" if size == 0 else "-" if change < 0 else "+"
    if size >= 1000:
        return f"{sign}{size / 1000:.2f}" + (" s" if unit else "")
    # Sub-10 ms changes (a DB write, a cache lookup) would all read "0" without a decimal.
    number = f"{sign}{size:.1f}" if 0 < size < 10 else f"{sign}{size:.0f}"
    return number + (" ms" if unit else "")


def format_ci(low_ms: float, high_ms: float) -> str:
    """A saving's CI as changes, the larger saving first: `-520 to -380 ms`."""
    same_unit = (abs(low_ms) >= 1000) == (abs(high_ms) >= 1000)
    return f"{format_change_ms(high_ms, unit=not same_unit)} to {format_change_ms(low_ms)}"


def format_share(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


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
