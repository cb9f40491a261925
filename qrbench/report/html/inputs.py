"""What `qrbench report` reads: results files (through `results.load`) and `explain`'s
`--json` export, the one record an explanation leaves (its variants' results files hold
the sessions, not the attribution). Anything else is one ResultsError naming the file."""

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from qrbench import capacity_results, jsonstream, results
from qrbench.analysis.compare import MetricKind
from qrbench.analysis.explain.attribution import (
    DirectionEffects,
    Explanation,
    GroupEffect,
    Remainder,
    Saving,
    StageMove,
)
from qrbench.analysis.explain.knobs import KnobChange
from qrbench.analysis.explain.plan import Direction
from qrbench.analysis.stats import Significance
from qrbench.config.estimates import Estimate
from qrbench.records import Fields, RecordError, shown
from qrbench.report.export.json import SUMMARY_SCHEMA_VERSION
from qrbench.report.html.model import CapacityPart, ReportPart, RunData
from qrbench.report.html.parts import explanation_part, relabelled, run_data, runs_part

# The key that names each of qrbench's JSON exports, and what to give `report` instead.
_EXPORTS = {
    "explanation": None,
    "comparison": "a `compare --json` summary holds no sessions; report the results "
    "files it compares (its `sources`)",
    "results_file": "a `run --json` summary holds no sessions; report its `results_file`",
}


def read_report(paths: Sequence[Path]) -> list[ReportPart]:
    """The parts of a report on `paths`: every results file side by side in one part, each
    explanation in its own; raises ResultsError naming the first file that is neither."""
    runs: list[RunData] = []
    explanations: list[ReportPart] = []
    for path in paths:
        export = _export(path)
        if export is None:
            runs.append(run_data(path))
        elif export.get("kind") == capacity_results.KIND:
            ramp = capacity_results.read_capacity(path)
            title = f"Capacity: {ramp.profile_name} on {ramp.scenario_name}"
            explanations.append(CapacityPart(title, ramp))
        else:
            explanations.append(_explanation(export, path))
    parts = explanations
    if runs:
        parts.append(runs_part(relabelled(runs)))
    return parts


def _export(path: Path) -> dict[str, Any] | None:
    """`path`'s document when it is one of qrbench's JSON exports; None for anything else,
    which `results.load` then reads (and, when it is no results file, says why)."""
    members: dict[str, Any] = {}
    try:
        with path.open(encoding="utf-8") as file:
            for event in jsonstream.events(file, "sessions", results.MAX_VALUE_MB << 20):
                if not isinstance(event, jsonstream.Member) or event.key == "qrbench_version":
                    return None  # a results file, or no object at all
                members[event.key] = event.value
                if members.get("kind") == capacity_results.KIND:
                    return members  # a capacity ramp's file: read whole, it is small
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return members if _EXPORTS.keys() & members.keys() else None


def _explanation(document: dict[str, Any], path: Path) -> ReportPart:
    for key, instead in _EXPORTS.items():
        if key in document and instead is not None:
            raise results.ResultsError(f"{path}: {instead}")
    version = document.get("schema_version")
    if type(version) is not int or version != SUMMARY_SCHEMA_VERSION:
        raise results.ResultsError(
            f"{path}: export schema_version {shown(version)} is not supported "
            f"(this qrbench reads {SUMMARY_SCHEMA_VERSION})"
        )
    try:
        fields = Fields(document).nested("explanation")
        caveats = [
            f"{caveat.read('message', str)} ({caveat.read('hint', str)})"
            for caveat in _each(fields, "caveats")
        ]
        return explanation_part(_read_explanation(fields), caveats, _stopping(fields))
    except RecordError as exc:
        raise results.ResultsError(f"{path}: not an explain export ({exc})") from None


def _stopping(fields: Fields) -> list[str]:
    """The export's `--runs auto` heading and lines; none in an export without them."""
    stop = _optional(fields, "auto_stop") if "auto_stop" in fields.data else None
    if stop is None:
        return []
    lines = stop.items("lines")
    for index, line in enumerate(lines):
        if not isinstance(line, str):
            raise RecordError(
                f"{stop.path('lines')}[{index}]: expected a string, got {shown(line)}"
            )
    return [stop.read("heading", str), *lines]


def _each(fields: Fields, key: str) -> list[Fields]:
    return [Fields(item, f"{fields.path(key)}[{i}]") for i, item in enumerate(fields.items(key))]


def _signed(fields: Fields, key: str) -> float | None:
    """A figure that may be negative (a saving that is a cost), or null."""
    value = fields.data.get(key, _MISSING)
    if value is _MISSING:
        raise RecordError(f"{fields.path(key)}: missing")
    if value is None:
        return None
    if type(value) not in (int, float) or not abs(value) < float("inf"):
        raise RecordError(
            f"{fields.path(key)}: expected a finite number or null, got {shown(value)}"
        )
    return float(value)


def _required(fields: Fields, key: str) -> float:
    value = _signed(fields, key)
    if value is None:
        raise RecordError(f"{fields.path(key)}: expected a finite number, got null")
    return value


_MISSING = object()
_Choice = TypeVar("_Choice", bound=StrEnum)


def _choice(fields: Fields, key: str, kind: type[_Choice]) -> _Choice | None:
    value = fields.read(key, str | None)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise RecordError(
            f"{fields.path(key)}: expected one of {known}, got {shown(value)}"
        ) from None


def _optional(fields: Fields, key: str) -> Fields | None:
    return None if fields.read(key, dict[str, Any] | None) is None else fields.nested(key)


def _saving(fields: Fields | None) -> Saving | None:
    if fields is None:
        return None
    significance = _choice(fields, "significance", Significance)
    if significance is None:
        raise RecordError(f"{fields.path('significance')}: expected a string, got null")
    return Saving(
        value_ms=_required(fields, "value_ms"),
        ci_low_ms=_required(fields, "ci_low_ms"),
        ci_high_ms=_required(fields, "ci_high_ms"),
        p_value=fields.read("p_value", float),
        significance=significance,
    )


def _group(fields: Fields) -> GroupEffect:
    estimate = _optional(fields, "estimate")
    return GroupEffect(
        group=fields.read("group", str),
        title=fields.read("title", str),
        changes=[
            KnobChange(
                key=change.read("key", str),
                slow_value=change.data.get("slow_value"),
                fast_value=change.data.get("fast_value"),
            )
            for change in _each(fields, "changes")
        ],
        slow_side=fields.read("slow_side", str),
        fast_side=fields.read("fast_side", str),
        saving=_saving(_optional(fields, "saving")),
        share=_signed(fields, "share"),
        stages=[
            StageMove(
                stage=move.read("stage", str),
                slow_median_ms=move.read("slow_median_ms", float | None),
                fast_median_ms=move.read("fast_median_ms", float | None),
                slow_kind=_choice(move, "slow_kind", MetricKind),
                fast_kind=_choice(move, "fast_kind", MetricKind),
                significance=_choice(move, "significance", Significance),
            )
            for move in _each(fields, "stages")
        ],
        estimate=None
        if estimate is None
        else Estimate(saving_ms=_required(estimate, "saving_ms"), note=estimate.read("note", str)),
    )


def _direction(fields: Fields) -> DirectionEffects:
    direction = _choice(fields, "direction", Direction)
    if direction is None or direction is Direction.BOTH:
        raise RecordError(f"{fields.path('direction')}: expected forward or backward")
    remainder = _optional(fields, "remainder")
    return DirectionEffects(
        direction=direction,
        groups=[_group(group) for group in _each(fields, "groups")],
        sum_of_savings_ms=_signed(fields, "sum_of_savings_ms"),
        remainder=None
        if remainder is None
        else Remainder(
            value_ms=_required(remainder, "value_ms"),
            ci_low_ms=_required(remainder, "ci_low_ms"),
            ci_high_ms=_required(remainder, "ci_high_ms"),
            share=_signed(remainder, "share"),
        ),
    )


def _read_explanation(fields: Fields) -> Explanation:
    sources = fields.read("sources", dict[str, Any])
    if not all(isinstance(value, str) for value in sources.values()):
        raise RecordError(f"{fields.path('sources')}: expected file names")
    return Explanation(
        slow=fields.read("slow", str),
        fast=fields.read("fast", str),
        scenario=fields.read("scenario", str),
        slow_median_ms=fields.read("slow_median_ms", float | None),
        fast_median_ms=fields.read("fast_median_ms", float | None),
        total=_saving(_optional(fields, "total")),
        directions=[_direction(direction) for direction in _each(fields, "directions")],
        sources=sources,
        # Phrased in the export; the part keeps them as sentences.
        caveats=[],
        estimates_source=fields.read("estimates_source", str | None),
    )
