"""`--runs auto` as a user types it: its bad input, and real runs that stop by themselves."""

import json
from pathlib import Path

import pytest

from qrbench.analysis.sequential import FIRST_LOOK_PAIRS
from tests.helpers import SMALL_WORLD, qrbench, write_yaml


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--runs", "lots"], "--runs: expected a number of sessions or 'auto' (got 'lots')"),
        (["run", "--runs", "0"], "--runs: must be at least 1 (got 0)"),
        (
            ["run", "--runs", "auto", "--max-runs", "6"],
            "--max-runs 6: --runs auto needs at least 20",
        ),
        (["compare", "old", "new", "--max-runs", "12"], "--runs auto needs at least 20"),
        (["run", "--budget", "5m"], "--budget: only with --runs auto"),
        (["gate", "--runs", "5", "--max-runs", "20"], "--max-runs: only with --runs auto"),
        (["explain", "old", "new", "--runs", "3", "--margin", "50ms"], "--margin: only with"),
        (["run", "--runs", "auto", "--budget", "soon"], "--budget: expected a duration like 10s"),
        (["compare", "a.json", "b.json", "--budget", "1m"], "--budget: only for profiles run now"),
        (["compare", "old", "new", "--concurrency", "2"], "--runs auto runs one session at a time"),
        (["run", "--runs", "auto", "--arrival-rate", "10"], "give --runs N"),
    ],
)
def test_bad_adaptive_options_are_usage_errors_before_any_session(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = qrbench(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "results").exists()


def _measured(path: Path) -> int:
    return sum(not s["warmup"] for s in json.loads(path.read_text())["sessions"])


@pytest.mark.browser
def test_a_run_far_over_its_target_settles_fail_after_a_few_sessions(tmp_path: Path) -> None:
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "run", "--scenario", "small.yaml", "--runs", "auto", "--max-runs", "30",
        "--warmup", "0", "--target", "50ms", "--output", "run.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--runs auto: settled: FAIL: p95" in done.stdout
    assert 1 <= _measured(tmp_path / "run.json") < 10
    header = json.loads((tmp_path / "run.json").read_text())["plan"]
    assert (header["runs"], header["max_runs"]) == ("auto", 30)


@pytest.mark.browser
def test_a_gate_run_auto_settles_on_the_gate_thresholds_and_fails(tmp_path: Path) -> None:
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "gate", "--scenario", "small.yaml", "--runs", "auto", "--warmup", "0",
        "--target", "50ms", "--percentile", "p50", "--output", "gate.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "settled: FAIL: p50" in done.stdout
    assert _measured(tmp_path / "gate.json") < 10


def _webhook_profiles(tmp_path: Path) -> None:
    """A receiver that takes a declared 1.5 s per webhook, and a profile that waits for it
    (blocking) beside one that does not (background)."""
    write_yaml(tmp_path / "slow-receiver.yaml", SMALL_WORLD + "webhook:\n  processing_ms: 1500\n")
    write_yaml(tmp_path / "blocking.yaml", "extends: optimized\nwebhook:\n  mode: blocking\n")
    write_yaml(tmp_path / "background.yaml", "extends: optimized\nwebhook:\n  mode: background\n")


@pytest.mark.browser
def test_a_gate_run_auto_against_a_baseline_ends_when_the_regression_is_shown(
    tmp_path: Path,
) -> None:
    _webhook_profiles(tmp_path)
    saved = qrbench(
        "run", "--profile", "background.yaml", "--scenario", "slow-receiver.yaml",
        "--runs", "8", "--warmup", "0", "--output", "base.json", cwd=tmp_path,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    # A 60 s target at p95 takes ~80 sessions to show; the regression far fewer.
    done = qrbench(
        "gate", "--profile", "blocking.yaml", "--scenario", "slow-receiver.yaml",
        "--runs", "auto", "--warmup", "0", "--target", "60s", "--baseline", "base.json",
        "--output", "gate.json", cwd=tmp_path, timeout=240,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    stopped = " ".join(done.stdout.split())
    assert "--runs auto: not settled (the regression ended the run): p95" in stopped
    assert "against the baseline's" in stopped and "): regressed" in stopped
    assert _measured(tmp_path / "gate.json") < 20
    recorded = json.loads((tmp_path / "gate.json").read_text())["summary"]["auto_stop"]
    assert recorded["regression"]["settled"] == "regressed"


@pytest.mark.browser
def test_compare_auto_stops_once_a_blocking_webhook_is_settled_slower(tmp_path: Path) -> None:
    # A blocking webhook adds the receiver's 1.5 s to time-to-QR.
    _webhook_profiles(tmp_path)
    done = qrbench(
        "compare", "background.yaml", "blocking.yaml", "--scenario", "slow-receiver.yaml",
        "--max-runs", "30", "--warmup", "0", "--json", "compare.json", cwd=tmp_path,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "blocking vs background: settled: slower, p = " in done.stdout
    files = sorted((tmp_path / "results").glob("*.json"))
    assert len(files) == 2
    assert all(FIRST_LOOK_PAIRS <= _measured(path) < 30 for path in files)
