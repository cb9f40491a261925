"""The capacity results file read back: what the gate trusts, and one line for anything else."""

import json
from pathlib import Path
from typing import Any

import pytest

from qrbench.analysis.capacity import Capacity, KneeStep, Stop, StopReason
from qrbench.capacity_results import CapacityFile, read_capacity
from qrbench.config.load import Load
from qrbench.results import ResultsError, RunStatus
from tests.helpers import capacity_step

HEADER = {
    "profile_name": "optimized",
    "scenario_name": "lan",
    "plan": {"criterion": {"target_ms": 10_000, "percentile": 95}},
}
KNEE = KneeStep(step=1, capacity=2, unit=Capacity.CONCURRENCY, per_session_mb=180.04)


def written(tmp_path: Path) -> Path:
    path = tmp_path / "ramp.json"
    capacity_file = CapacityFile(path, HEADER)
    capacity_file.add_step(capacity_step(1, Load(concurrency=2), [1000.0] * 10), KNEE)
    capacity_file.finish(
        RunStatus.COMPLETE, Stop(StopReason.LAST_STEP, 1, Load(concurrency=2)), KNEE
    )
    return path


def test_a_written_ramp_reads_back_with_its_knee(tmp_path: Path) -> None:
    saved = read_capacity(written(tmp_path))
    assert saved.status is RunStatus.COMPLETE and saved.steps == 1
    assert saved.knee == KneeStep(
        step=1, capacity=2, unit=Capacity.CONCURRENCY, per_session_mb=180.0
    )
    assert (saved.profile_name, saved.scenario_name) == ("optimized", "lan")
    [step] = saved.step_rows
    assert (step.capacity, step.unit, step.meets) == (2, Capacity.CONCURRENCY, True)
    assert step.percentile_ms == 1000.0 and step.per_session_mb == 300.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kind": "run"}, "not a capacity results file"),
        ({"schema_version": 2}, "schema_version 2 is not supported (this qrbench reads 1)"),
        ({"status": "done"}, 'status: unknown value "done"'),
        (
            {"knee": {"step": 1, "capacity": 2, "unit": "users", "per_session_mb": None}},
            "knee.unit",
        ),
        (
            {
                "knee": {
                    "step": 1,
                    "capacity": -2,
                    "unit": "sessions in flight",
                    "per_session_mb": None,
                }
            },
            "knee.capacity",
        ),
        ({"steps": {}}, "steps: expected a list"),
    ],
)
def test_a_file_that_is_not_a_ramp_is_one_line(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    path = written(tmp_path)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, **change}))
    with pytest.raises(ResultsError, match="^" + str(path).replace(".", r"\.")) as raised:
        read_capacity(path)
    assert expected in str(raised.value)


def test_a_file_that_is_not_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ramp.json"
    path.write_text("{")
    with pytest.raises(ResultsError, match="not valid JSON"):
        read_capacity(path)
