"""`qrbench capacity` and `qrbench gate --min-capacity` as a user runs them: real processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qrbench.measure import capacity
from tests.fakes import (
    FakeEngines,
    FakeMachine,
    FakeProvider,
    capacity_plan_for,
    run_fake_ramp,
)
from tests.helpers import SMALL_WORLD, qrbench, write_yaml


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--steps", "0,1"], "--steps: every step must be a number above 0 (got 0)"),
        (["--steps", "1,2,2"], "--steps: steps must increase (got 1, 2, 2)"),
        (["--steps", "4,2"], "--steps: steps must increase"),
        (["--steps", "1,two"], "--steps: expected numbers separated by commas"),
        (["--steps", "1.5"], "whole numbers"),
        (["--arrival-rates", "-3"], "--arrival-rates: every step must be a number above 0"),
        (["--arrival-rates", "10,nan"], "--arrival-rates: every step must be a number above 0"),
        (["--arrival-rates", "20,10"], "--arrival-rates: steps must increase"),
        (["--steps", "1,2", "--arrival-rates", "5"], "one or the other"),
        (["--steps", "1,2", "--max-concurrency", "4"], "--max-concurrency: only for the default"),
        (["--seed", "3"], "--seed: only with --arrival-rates"),
        (["--sessions-per-step", "9"], "--sessions-per-step must be at least 10 (got 9)"),
        (["--headroom", "95%"], "--headroom: must be between 0% and 90%"),
        (["--max-concurrency", "0"], "--max-concurrency"),
        (["--target", "0s"], "--target: must be greater than 0"),
    ],
)
def test_bad_ramps_exit_2_before_any_session(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    done = qrbench("capacity", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


def test_a_ramp_that_cannot_fit_in_memory_is_refused_with_the_estimate(tmp_path: Path) -> None:
    # 100,000 browsers of 360 MB: 34 TiB, more than any machine this runs on.
    done = qrbench("capacity", "--max-concurrency", "100000", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "does not fit in memory" in done.stderr
    assert "~35,156.2 GB (100000 x 360 MB a session, documented)" in done.stderr
    assert "sessions in flight fit" in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.fixture
def ramp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A capacity file from a fake ramp whose steps 1 and 2 met the criterion: knee 2."""
    monkeypatch.setattr(capacity, "WATCH_INTERVAL_S", 0.005)
    plan = capacity_plan_for(tmp_path, [1, 2])
    provider = FakeProvider()
    run_fake_ramp(plan, FakeEngines(), provider, FakeMachine(provider))
    return plan.results_path


def gate(*args: str, cwd: Path) -> "tuple[int, str, str]":
    done = qrbench("gate", *args, cwd=cwd, env={"GITHUB_STEP_SUMMARY": ""})
    return done.returncode, done.stdout, done.stderr


def test_gate_passes_a_knee_at_the_floor_and_fails_one_below(
    ramp_file: Path, tmp_path: Path
) -> None:
    code, out, err = gate("--capacity-results", str(ramp_file), "--min-capacity", "2", cwd=tmp_path)
    assert code == 0, err
    assert "PASS" in out and "knee 2 sessions in flight (step 2), at least --min-capacity 2" in out

    code, out, err = gate("--capacity-results", str(ramp_file), "--min-capacity", "3", cwd=tmp_path)
    assert code == 1, err
    assert "FAIL" in out and "below --min-capacity 3" in out


def test_gate_fails_a_ramp_with_no_knee(ramp_file: Path, tmp_path: Path) -> None:
    document = json.loads(ramp_file.read_text())
    document["knee"] = None
    ramp_file.write_text(json.dumps(document))
    code, out, err = gate("--capacity-results", str(ramp_file), "--min-capacity", "1", cwd=tmp_path)
    assert code == 1, err
    assert "no step met the criterion" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--min-capacity", "2"], "--capacity-results and --min-capacity: give both"),
        (["--capacity-results", "RAMP"], "--capacity-results and --min-capacity: give both"),
        (["--capacity-results", "RAMP", "--min-capacity", "0"], "--min-capacity must be"),
        (["--capacity-results", "RAMP", "--min-capacity", "2", "--runs", "3"], "--runs: not with"),
        (["--capacity-results", "STEP", "--min-capacity", "2"], "not a capacity results file"),
        (["--capacity-results", "NONE", "--min-capacity", "2"], "no such capacity results file"),
    ],
)
def test_gate_refuses_a_capacity_check_it_cannot_make(
    ramp_file: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    paths = {
        "RAMP": str(ramp_file),
        # A step's own file is a run's results file, not a ramp's.
        "STEP": str(ramp_file.with_suffix("") / "step-1.json"),
        "NONE": str(tmp_path / "missing.json"),
    }
    code, _, err = gate(*[paths.get(arg, arg) for arg in args], cwd=tmp_path)
    assert code == 2, err
    assert expected in err


def test_gate_refuses_an_interrupted_ramp(ramp_file: Path, tmp_path: Path) -> None:
    document = json.loads(ramp_file.read_text())
    document["status"] = "interrupted"
    ramp_file.write_text(json.dumps(document))
    code, _, err = gate("--capacity-results", str(ramp_file), "--min-capacity", "1", cwd=tmp_path)
    assert code == 2
    assert "the ramp interrupted after 2 steps; the gate judges complete ramps only" in err


SMALL_RAMP = (
    *("--scenario", "small", "--sessions-per-step", "10", "--warmup", "0"),
    *("--output", "ramp.json"),
)


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_one_step_ramp_on_real_chromium_prints_its_table_and_knee(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    done = qrbench("capacity", *SMALL_RAMP, "--steps", "1", cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "step 1: 1 in flight, 10 sessions" in done.stdout
    assert "Capacity: optimized on small" in done.stdout
    assert "knee: 1 session in flight (step 1)" in done.stdout
    document = json.loads((tmp_path / "ramp.json").read_text())
    (step,) = document["steps"]
    assert step["sessions"] == 10 and step["meets_criterion"]
    # Real Chromium trees were seen: one browser at a time, PSS below RSS (shared pages).
    memory = step["memory"]
    assert memory["browsers_at_peak"] == 1
    assert 0 < memory["peak_pss_mb"] < memory["peak_rss_mb"]
    assert (tmp_path / "ramp" / "step-1.json").is_file()


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_ctrl_c_in_the_second_step_keeps_the_first_and_leaves_no_chromium(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    ramp = subprocess.Popen(
        [sys.executable, "-m", "qrbench", "capacity", *SMALL_RAMP, "--steps", "1,2"],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # A session of the second step has finished: its results file exists.
        deadline = time.monotonic() + 180
        while not (tmp_path / "ramp" / "step-2.json").exists():
            assert ramp.poll() is None, ramp.communicate()
            assert time.monotonic() < deadline, "the second step never finished a session"
            time.sleep(0.05)
        ramp.send_signal(signal.SIGINT)
        _, stderr = ramp.communicate(timeout=60)
    finally:
        if ramp.poll() is None:
            ramp.kill()
    assert ramp.returncode == 130, stderr
    assert "qrbench: interrupted (SIGINT); finished steps are kept in ramp.json" in stderr
    document = json.loads((tmp_path / "ramp.json").read_text())
    assert document["status"] == "interrupted"
    assert [step["number"] for step in document["steps"]] == [1]
    step_two = json.loads((tmp_path / "ramp" / "step-2.json").read_text())
    assert step_two["status"] == "interrupted"
