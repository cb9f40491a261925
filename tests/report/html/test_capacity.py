"""A capacity ramp in the report: read from its file, a row per step in both charts, the
target line on the percentile chart, the knee marked once."""

import re
from pathlib import Path

from qrbench.analysis.capacity import StepMemory, knee
from qrbench.capacity_results import CapacityFile
from qrbench.config.load import Load
from qrbench.report.html import page
from qrbench.report.html.inputs import read_report
from qrbench.report.html.model import CapacityPart
from qrbench.results import RunStatus
from tests.helpers import capacity_step


def ramp_file(directory: Path) -> Path:
    """Three steps: 1 and 2 in flight meet 10 s, 4 do not; the pool-like memory shrinks."""
    path = directory / "ramp.json"
    header = {
        "qrbench_version": "test",
        "profile_name": "pooled",
        "scenario_name": "lan",
        "plan": {"criterion": {"target_ms": 10_000, "percentile": 95}},
    }
    ramp = CapacityFile(path, header)
    steps = []
    for number, (in_flight, time_ms) in enumerate([(1, 2_000.0), (2, 4_000.0), (4, 12_000.0)], 1):
        memory = StepMemory(900.0, 700.0, browsers_at_peak=2, sessions_at_peak=in_flight)
        step = capacity_step(number, Load(concurrency=in_flight), [time_ms] * 20, memory=memory)
        steps.append(step)
        ramp.add_step(step, knee(steps))
    ramp.finish(RunStatus.COMPLETE, None, knee(steps))
    return path


def test_a_capacity_file_is_read_as_a_ramp_with_its_steps_and_knee(tmp_path: Path) -> None:
    [part] = read_report([ramp_file(tmp_path)])

    assert isinstance(part, CapacityPart)
    ramp = part.ramp
    assert [step.capacity for step in ramp.step_rows] == [1, 2, 4]
    assert [step.meets for step in ramp.step_rows] == [True, True, False]
    assert [step.per_session_mb for step in ramp.step_rows] == [700.0, 350.0, 175.0]
    assert ramp.knee is not None and ramp.knee.step == 2
    assert ramp.target_ms == 10_000


def test_the_ramp_is_charted_per_step_with_the_knee_marked_once(tmp_path: Path) -> None:
    html = page.render("report", read_report([ramp_file(tmp_path)]))

    assert html.count('class="capacity-step"') == 6  # three steps, two charts
    assert len(re.findall(r'class="capacity-p95( misses)?"', html)) == 3
    assert len(re.findall(r'class="capacity-memory( misses)?"', html)) == 3
    assert html.count('class="capacity-p95 misses"') == 1
    assert html.count('class="knee-marker"') == 2  # once in each chart, on step 2
    assert html.count('class="target-line"') == 1
    assert "knee: 2 sessions in flight (step 2), 350 MB per session" in html
    assert "<script" not in html
