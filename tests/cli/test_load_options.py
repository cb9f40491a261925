"""--concurrency, --arrival-rate and --seed as a user gives them: real processes, exit codes."""

import json
from pathlib import Path

import pytest

from tests.helpers import SMALL_WORLD, qrbench, write_yaml


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--concurrency", "0"], "--concurrency"),
        (["run", "--arrival-rate", "0"], "--arrival-rate"),
        (["run", "--arrival-rate", "-3"], "--arrival-rate"),
        (["run", "--arrival-rate", "nan"], "--arrival-rate"),
        (["run", "--concurrency", "2", "--arrival-rate", "10"], "one or the other"),
        (["gate", "--concurrency", "0"], "--concurrency"),
        (["gate", "--results", "r.json", "--concurrency", "2"], "not with --results"),
        (["baseline", "save", "--arrival-rate", "0"], "--arrival-rate"),
        (["compare", "a", "b", "--concurrency", "0"], "--concurrency"),
        (["compare", "a.json", "b.json", "--arrival-rate", "5"], "not results files"),
        (["explain", "old", "optimized", "--concurrency", "2"], "--concurrency"),
    ],
)
def test_bad_load_options_exit_2_before_any_session(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    done = qrbench(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_two_sessions_in_flight_on_real_chromium(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "run",
        "--scenario",
        "small",
        "--concurrency",
        "2",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--seed",
        "4",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "2 in flight" in done.stdout
    assert "PASS" in done.stdout
    (results_file,) = (tmp_path / "results").glob("*-optimized-small.json")
    document = json.loads(results_file.read_text())
    assert document["plan"]["concurrency"] == 2
    # Without --arrival-rate, --seed seeds the scenario's fault draws.
    assert document["scenario"]["faults"]["seed"] == 4
    first, second = document["sessions"]
    assert first["ok"] and second["ok"]
    assert first["session_id"] != second["session_id"]
    # Both started at once: the second did not wait for the first's QR.
    assert second["started_ms"] < first["started_ms"] + first["time_to_qr_ms"]
