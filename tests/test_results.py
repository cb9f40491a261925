import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qrbench.analysis.summary import summarize_run
from qrbench.records import AttemptRecord, SessionError, SessionResult, StageTiming
from qrbench.results import (
    SCHEMA_VERSION,
    ResultsError,
    ResultsFile,
    SavedResults,
    default_path,
    load,
)
from tests.helpers import session, session_record

BASELINE = Path(__file__).parents[1] / "results" / "baselines" / "optimized-lan.json"
HEADER: dict[str, Any] = {
    "qrbench_version": "0.1.0",
    "run_id": "abc",
    "created_at": "2026-11-29T10:57:23+00:00",
    "plan": {"runs": 2, "warmup": 0},
    "profile": {"name": "optimized"},
    "scenario": {"name": "lan"},
    "environment": {"chromium": "Chromium 131", "cpu_cores": 2, "load_average": [0.5, 0.4, 0.3]},
    "auth_store": None,
}


def retried_session() -> SessionResult:
    """A session with every kind of nested record, its stage times unrounded."""
    hung = SessionError("qr_wait", "QrTimeout", "no QR after 3000 ms", 3100.0)
    return dataclasses.replace(
        session(1, 5200.0),
        stages=[StageTiming("page_load", 4100.04, 950.06, True, True)],
        background_errors=[SessionError("ready", "QrRetriesExhausted", "gave up", 9000.0)],
        attempts=[
            AttemptRecord(1, 0.0, 4100.0, "hang", hung),
            AttemptRecord(2, 4100.0, 1200.0, None, None),
        ],
    )


def test_each_finished_session_is_on_disk_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "results" / "run.json"
    results = ResultsFile(path, HEADER)
    results.add_session(session(1, 2000.0))
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert [s["number"] for s in on_disk["sessions"]] == [1]
    assert on_disk["summary"] is None
    results.add_session(session(2, None))
    results.set_summary(summarize_run([session(1, 2000.0), session(2, None)], 10_000).to_dict())
    saved = load(path)
    assert [s.ok for s in saved.sessions] == [True, False]
    assert saved.sessions[1].error is not None and saved.sessions[1].error.type == "QrTimeout"
    assert saved.summary is not None and saved.summary["succeeded"] == 1
    assert (saved.profile_name, saved.scenario_name, saved.run_id) == ("optimized", "lan", "abc")
    stage = json.loads(path.read_text())["sessions"][0]["stages"][0]
    assert set(stage) == {"name", "start_ms", "duration_ms", "critical", "ok"}
    assert list(tmp_path.glob("results/.*")) == [], "no temporary file is left behind"


def test_a_session_reads_back_as_written_with_stage_times_to_a_tenth(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    ResultsFile(path, HEADER).add_session(retried_session())
    (read,) = load(path).sessions
    expected = retried_session()
    assert read.stages == [StageTiming("page_load", 4100.0, 950.1, True, True)]
    assert dataclasses.replace(read, stages=expected.stages) == expected


def test_the_committed_baseline_loads_and_writes_back_byte_for_byte() -> None:
    saved = load(BASELINE)
    document = json.loads(BASELINE.read_text(encoding="utf-8"))
    document["sessions"] = [s.to_dict() for s in saved.sessions]
    assert json.dumps(document, indent=2) + "\n" == BASELINE.read_text(encoding="utf-8")
    assert len(saved.measured) == document["plan"]["runs"]


def test_a_session_from_the_first_schema_1_release_reads_with_what_it_implied() -> None:
    # qrbench 0.1's first results had no auth, DB, webhook, scan or retry keys.
    old = SessionResult.from_dict(session_record(1, 1500.0))
    assert (old.auth, old.db_statements, old.chats_synced) == ("localauth", 0, 0)
    assert (old.qr_delivered_ms, old.time_to_ready_ms) == (None, None)
    assert old.refs_delivered == old.refs_seen == 1
    assert (old.background_errors, old.attempts) == ([], [])


def test_default_path_names_profile_and_scenario() -> None:
    path = default_path("optimized", "lan")
    assert path.parent == Path("results")
    assert path.name.endswith("-optimized-lan.json")


def _document() -> dict[str, Any]:
    """A valid results document with one session, as a fresh copy from JSON."""
    document = {
        "schema_version": SCHEMA_VERSION,
        **HEADER,
        "sessions": [retried_session().to_dict()],
        "summary": None,
    }
    copy: dict[str, Any] = json.loads(json.dumps(document))
    return copy


def _deep(levels: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(levels):
        nested = [nested]
    return nested


Edit = Callable[[dict[str, Any]], None]


def _set(*keys: str | int, value: Any) -> Edit:
    """Sets the value at `keys` in a session record."""

    def edit(record: dict[str, Any]) -> None:
        target: Any = record
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _drop(key: str) -> Edit:
    def edit(record: dict[str, Any]) -> None:
        del record[key]

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _set("time_to_qr_ms", value=float("nan")),
            "expected a finite number >= 0 or null, got NaN",
        ),
        (_set("qr_delivered_ms", value=float("inf")), "qr_delivered_ms: expected a finite"),
        (
            _set("stages", 0, "start_ms", value=-5.0),
            "stages[0].start_ms: expected a finite number >= 0, got -5.0",
        ),
        (
            _set("time_to_qr_ms", value=True),
            "time_to_qr_ms: expected a finite number >= 0 or null, got true",
        ),
        (_set("time_to_qr_ms", value=10**400), "got an integer too large for a float"),
        (_set("stages", 0, "duration_ms", value="12"), "stages[0].duration_ms: expected"),
        (_set("stages", 0, value={"name": "page_load"}), "stages[0].start_ms: missing"),
        (_set("stages", value=_deep(500)), "stages[0]: expected an object, got a list"),
        (_set("error", value="boom"), 'error: expected an object or null, got "boom"'),
        (_set("attempts", 0, "error", "elapsed_ms", value=None), "attempts[0].error.elapsed_ms"),
        (_set("ok", value=1), "ok: expected true or false, got 1"),
        (_set("number", value=1.5), "number: expected a whole number >= 0, got 1.5"),
        (_set("resources", value=[]), "resources: expected an object or null, got a list"),
        (_drop("warmup"), "warmup: missing"),
    ],
)
def test_a_bad_session_is_one_error_naming_the_session_and_field(
    tmp_path: Path, edit: Edit, message: str
) -> None:
    document = _document()
    good = document["sessions"][0]
    bad = json.loads(json.dumps(good))
    edit(bad)
    document["sessions"] = [good, bad]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError) as raised:
        load(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: session 2: ")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["profile"].pop("name"), "profile.name: missing"),
        (lambda d: d.pop("environment"), "environment: missing"),
        (lambda d: d.update(sessions={}), "sessions: expected a list, got an object"),
        (lambda d: d.update(sessions=[7]), "session 1: expected an object, got 7"),
        (lambda d: d["environment"].update(chromium=_deep(500)), "environment.chromium:"),
        (lambda d: d.update(summary="done"), 'summary: expected an object or null, got "done"'),
    ],
)
def test_a_bad_header_is_one_error_naming_the_field(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    document = _document()
    edit(document)
    with pytest.raises(ResultsError, match=r"^bad\.json: ") as raised:
        SavedResults.from_dict(document, Path("bad.json"))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("version", "shown"), [("1", '"1"'), (True, "true"), (1.0, "1.0"), (999, "999")]
)
def test_only_the_schema_version_this_qrbench_writes_is_read(version: object, shown: str) -> None:
    document = {**_document(), "schema_version": version}
    with pytest.raises(ResultsError) as raised:
        SavedResults.from_dict(document, Path("old.json"))
    assert str(raised.value) == (
        f"old.json: schema_version {shown} is not supported (this qrbench reads {SCHEMA_VERSION})"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"sessions": []}', "no schema_version"),
        ("[]", "no schema_version"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema_version": ' + "9" * 5000 + "}", "not valid JSON"),
    ],
)
def test_unreadable_results_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=message):
        load(path)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such results file"):
        load(tmp_path / "absent.json")
    with pytest.raises(ResultsError, match="cannot read"):
        load(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ResultsError, match="cannot read"):
        load(binary)
