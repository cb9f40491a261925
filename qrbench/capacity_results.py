"""The capacity results file (`qrbench capacity`): every step of a ramp, its stop and knee.

Versioned like the run results file and rewritten atomically after every step, so a crash
or Ctrl-C keeps the finished steps. Each step's sessions are in an ordinary results file of
their own (`results_file`), which `compare` and `gate --results` read. results/README.md
describes the fields.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrbench.analysis.capacity import (
    Capacity,
    CapacityStep,
    KneeStep,
    MemoryEstimate,
    Quantile,
    Stop,
)
from qrbench.outputs import write_output
from qrbench.records import Fields, RecordError, shown
from qrbench.results import ResultsError, RunStatus, check_schema_version

SCHEMA_VERSION = 1
KIND = "capacity"


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _quantile(quantile: Quantile | None) -> dict[str, Any] | None:
    if quantile is None:
        return None
    return {
        "value": _rounded(quantile.value_ms),
        "ci_low": _rounded(quantile.ci_low_ms),
        "ci_high": _rounded(quantile.ci_high_ms),
    }


def step_to_dict(step: CapacityStep) -> dict[str, Any]:
    judged = step.judgement
    memory = step.memory
    return {
        "number": step.number,
        "load": step.load.to_dict(),
        "results_file": step.results_path,
        "end": step.end.value,
        "duration_s": round(step.duration_s, 2),
        "sessions": judged.sessions,
        "succeeded": judged.succeeded,
        "time_to_qr_p50_ms": _quantile(judged.p50),
        "time_to_qr_percentile": judged.target.percentile,
        "time_to_qr_percentile_ms": _quantile(judged.high),
        "meets_criterion": step.meets,
        "cpu_percent": round(step.cpu_percent, 1),
        "memory": None
        if memory is None
        else {
            "peak_rss_mb": round(memory.peak_rss_mb, 1),
            "peak_pss_mb": _rounded(memory.peak_pss_mb),
            "browsers_at_peak": memory.browsers_at_peak,
            "sessions_at_peak": memory.sessions_at_peak,
            "per_session_mb": _rounded(memory.per_session_mb),
        },
        "swap_used_start_mb": round(step.swap_used_start_mb, 1),
        "swap_used_peak_mb": round(step.swap_used_peak_mb, 1),
    }


def _estimate(estimate: MemoryEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {
        "in_flight": estimate.in_flight,
        "per_session_mb": round(estimate.per_session_mb, 1),
        "per_session_measured": estimate.measured,
        "needed_mb": round(estimate.needed_mb, 1),
        "allowed_mb": round(estimate.allowed_mb, 1),
    }


def _stop(stop: Stop | None) -> dict[str, Any] | None:
    if stop is None:
        return None
    return {
        "reason": stop.reason.value,
        "step": stop.step,
        "load": None if stop.load is None else stop.load.to_dict(),
        "estimate": _estimate(stop.estimate),
    }


def _knee(knee: KneeStep | None) -> dict[str, Any] | None:
    if knee is None:
        return None
    return {
        "step": knee.step,
        "capacity": knee.capacity,
        "unit": knee.unit.value,
        "per_session_mb": _rounded(knee.per_session_mb),
    }


class CapacityFile:
    """One ramp's results on disk; `header` holds what is known before the first step."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._header = header
        self._steps: list[dict[str, Any]] = []

    def add_step(self, step: CapacityStep, knee: KneeStep | None) -> None:
        """A finished step: rewritten at once, so a crash keeps it."""
        self._steps.append(step_to_dict(step))
        self._write(RunStatus.RUNNING, None, knee)

    def finish(self, status: RunStatus, stop: Stop | None, knee: KneeStep | None) -> None:
        self._write(status, stop, knee)

    def _write(self, status: RunStatus, stop: Stop | None, knee: KneeStep | None) -> None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            **self._header,
            "status": status.value,
            "stop": _stop(stop),
            "steps": self._steps,
            "knee": _knee(knee),
        }
        text = json.dumps(document, indent=2)
        write_output(self.path, (text + "\n").encode("utf-8"), "capacity results file")


@dataclass(frozen=True)
class SavedStep:
    """One step of a ramp as its file holds it: what the report charts."""

    number: int
    capacity: float
    unit: Capacity
    succeeded: int
    sessions: int
    # The criterion's percentile of time-to-QR; None when no session succeeded.
    percentile_ms: float | None
    meets: bool
    per_session_mb: float | None


@dataclass(frozen=True)
class SavedCapacity:
    """A capacity results file read back for the gate and the report."""

    path: Path
    profile_name: str
    scenario_name: str
    status: RunStatus
    target_ms: float
    percentile: float
    step_rows: list[SavedStep]
    knee: KneeStep | None

    @property
    def steps(self) -> int:
        return len(self.step_rows)


def read_capacity(path: Path) -> SavedCapacity:
    """Raises ResultsError (exit 2) naming the field when `path` is not a capacity file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such capacity results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    except ValueError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise ResultsError(
            f'{path}: not a capacity results file (written by `qrbench capacity`, kind "{KIND}")'
        )
    check_schema_version(document.get("schema_version"), path, SCHEMA_VERSION)
    try:
        fields = Fields(document)
        status_text = fields.read("status", str)
        try:
            status = RunStatus(status_text)
        except ValueError:
            raise RecordError(f"status: unknown value {shown(status_text)}") from None
        criterion = fields.nested("plan").nested("criterion")
        return SavedCapacity(
            path=path,
            profile_name=fields.read("profile_name", str),
            scenario_name=fields.read("scenario_name", str),
            status=status,
            target_ms=criterion.read("target_ms", float),
            percentile=criterion.read("percentile", float),
            step_rows=[
                _read_step(Fields(step, f"steps[{index}]"))
                for index, step in enumerate(fields.items("steps"))
            ],
            knee=_read_knee(fields),
        )
    except RecordError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def _read_step(fields: Fields) -> SavedStep:
    load = fields.nested("load")
    if "arrival_rate_per_min" in load.data:
        capacity, unit = load.read("arrival_rate_per_min", float), Capacity.ARRIVAL_RATE
    else:
        capacity, unit = load.read("concurrency", float), Capacity.CONCURRENCY
    high = fields.read("time_to_qr_percentile_ms", dict[str, Any] | None)
    memory = fields.read("memory", dict[str, Any] | None)
    return SavedStep(
        number=fields.read("number", int),
        capacity=capacity,
        unit=unit,
        succeeded=fields.read("succeeded", int),
        sessions=fields.read("sessions", int),
        percentile_ms=None
        if high is None
        else fields.nested("time_to_qr_percentile_ms").read("value", float | None),
        meets=fields.read("meets_criterion", bool),
        per_session_mb=None
        if memory is None
        else fields.nested("memory").read("per_session_mb", float | None),
    )


def _read_knee(fields: Fields) -> KneeStep | None:
    if fields.read("knee", dict[str, Any] | None) is None:
        return None
    knee = fields.nested("knee")
    unit_text = knee.read("unit", str)
    try:
        unit = Capacity(unit_text)
    except ValueError:
        raise RecordError(f"knee.unit: unknown value {shown(unit_text)}") from None
    return KneeStep(
        step=knee.read("step", int),
        capacity=knee.read("capacity", float),
        unit=unit,
        per_session_mb=knee.read("per_session_mb", float | None),
    )
