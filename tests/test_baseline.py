import json
from pathlib import Path

import pytest

from qrbench.baseline import baseline_path, copy_to_baseline, read_baseline
from qrbench.errors import ConfigError
from qrbench.results import ResultsError
from tests.helpers import results_document


def test_baselines_are_named_after_profile_and_scenario_and_must_exist(tmp_path: Path) -> None:
    destination = baseline_path("optimized", "lan", tmp_path / "baselines")
    assert destination == tmp_path / "baselines" / "optimized-lan.json"
    with pytest.raises(ConfigError, match="no such baseline file"):
        read_baseline(destination)
    source = tmp_path / "run.json"
    source.write_text(json.dumps(results_document("optimized", [1500.0, 1600.0])), "utf-8")
    copy_to_baseline(source, destination)
    assert destination.read_bytes() == source.read_bytes()
    baseline = read_baseline(destination)
    assert (baseline.path, baseline.profile_name, baseline.scenario_name) == (
        destination,
        "optimized",
        "lan",
    )
    assert list(baseline.columns.qr_times) == [1500.0, 1600.0]


def test_a_baseline_without_a_successful_session_is_refused_when_read(tmp_path: Path) -> None:
    # Before the gate's benchmark runs, not after it.
    path = tmp_path / "failed.json"
    document = results_document("optimized", [None, None], warmup_ms=1500.0)
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError, match="no successful session to compare with"):
        read_baseline(path)


def test_a_bad_baseline_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    document = results_document("optimized", [1500.0])
    document["sessions"][0]["time_to_qr_ms"] = float("nan")
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"bad\.json: session 1: time_to_qr_ms: .* got NaN"):
        read_baseline(path)


@pytest.mark.parametrize("profile", ["../../escape", "a/b", ".hidden"])
def test_a_baseline_name_that_is_a_path_is_refused(profile: str, tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not usable in a baseline file name"):
        baseline_path(profile, "lan", tmp_path)


def test_an_interrupted_run_is_refused_as_a_baseline(tmp_path: Path) -> None:
    path = tmp_path / "stopped.json"
    document = {**results_document("optimized", [1500.0, 1600.0]), "status": "interrupted"}
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError, match="interrupted after 2 sessions; a baseline must be"):
        read_baseline(path)
