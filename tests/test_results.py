import json
from pathlib import Path

import pytest

from qrbench.analysis.summary import summarize_run
from qrbench.results import SCHEMA_VERSION, ResultsError, ResultsFile, default_path, load
from tests.analysis.test_summary import session


def test_each_finished_session_is_on_disk_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "results" / "run.json"
    results = ResultsFile(path, {"profile": {"name": "optimized"}})
    results.add_session(session(1, 2000.0))
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert [s["number"] for s in on_disk["sessions"]] == [1]
    assert on_disk["summary"] is None
    results.add_session(session(2, None))
    results.set_summary(summarize_run([session(1, 2000.0), session(2, None)], 10_000))
    on_disk = load(path)
    assert [s["ok"] for s in on_disk["sessions"]] == [True, False]
    assert on_disk["sessions"][1]["error"]["type"] == "QrTimeout"
    assert on_disk["summary"]["succeeded"] == 1
    stage = on_disk["sessions"][0]["stages"][0]
    assert set(stage) == {"name", "start_ms", "duration_ms", "critical", "ok"}
    assert list(tmp_path.glob("results/.*")) == [], "no temporary file is left behind"


def test_default_path_names_profile_and_scenario() -> None:
    path = default_path("optimized", "lan")
    assert path.parent == Path("results")
    assert path.name.endswith("-optimized-lan.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"sessions": []}', "no schema_version"),
        ('{"schema_version": 999}', "schema_version 999 is not supported"),
    ],
)
def test_unreadable_results_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=message):
        load(path)


def test_missing_results_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such results file"):
        load(tmp_path / "absent.json")
