"""The streaming reader: what json.loads reads, read a value at a time, at any chunk size."""

import io
import json
from pathlib import Path
from typing import Any

import pytest

from qrbench import jsonstream, results
from qrbench.columns import MeasuredSessions
from qrbench.results import ResultsError, load, read_run
from tests.helpers import results_document

DOCUMENT = {
    "schema_version": 1,
    "name": 'a "quoted" \\ string \u00e9\u2603',
    "numbers": [1, -2.5e3, 10**30, 0.1, True, None],
    "sessions": [{"a": [1, {"b": "x" * 40}]}, 7, "s", [], {}, -12.25, None, False],
    "nested": {"deep": [[[]]], "empty": {}},
}


def _rebuilt(text: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> object:
    """The document as the events give it, sessions collected back into their list."""
    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", chunk)
    document: dict[str, Any] = {}
    whole: object = document
    for event in jsonstream.events(io.StringIO(text), "sessions", 1 << 20):
        match event:
            case jsonstream.NotAnObject(value):
                whole = value
            case jsonstream.ArrayStart(key):
                document[key] = []
            case jsonstream.Element(key, index, value):
                assert index == len(document[key])
                document[key].append(value)
            case jsonstream.Member(key, value):
                document[key] = value
    return whole


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_any_chunk_size_reads_what_json_loads_reads(
    monkeypatch: pytest.MonkeyPatch, chunk: int, indent: int | None
) -> None:
    text = json.dumps(DOCUMENT, indent=indent)
    assert _rebuilt(text, chunk, monkeypatch) == json.loads(text)
    assert _rebuilt(" [1, 2] ", chunk, monkeypatch) == [1, 2]
    assert _rebuilt('{"sessions": 12345}', chunk, monkeypatch) == {"sessions": 12345}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"sessions": [1, 2',
        '{"sessions": [1 2]}',
        '{"sessions": [1,]}',
        '{"a": 1,}',
        '{"a" 1}',
        '{"a": 1 "b": 2}',
        '{"a": tru}',
        '{"a": "unterminated}',
        '{\n"a": 1,\n\n"b": [1,\n 2,,\n]}',
        '{"a": 1} x',
        "[1] 2",
        "\ufeff{}",
        '{"a": "\\u12"}',
        "{1: 2}",
    ],
)
@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_syntax_errors_are_worded_and_placed_as_json_loads_does(
    monkeypatch: pytest.MonkeyPatch, text: str, chunk: int
) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(jsonstream.JsonSyntaxError) as raised:
        _rebuilt(text, chunk, monkeypatch)
    assert (raised.value.msg, raised.value.lineno) == (expected.value.msg, expected.value.lineno)


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_read_run_gives_the_columns_load_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", 97)
    path = _write(
        tmp_path / "run.json", results_document("x", [1000.0, None, 1200.5], warmup_ms=9.0)
    )
    whole, streamed = load(path), read_run(path)
    assert streamed.columns == MeasuredSessions.of(whole.sessions)
    assert streamed.session_count == len(whole.sessions) == 4
    assert list(streamed.columns.numbers) == [2, 3, 4]
    assert list(streamed.columns.qr_times) == [1000.0, 1200.5]
    assert streamed.columns.succeeded == 2
    assert [f.count for f in streamed.columns.failures] == [1]


def test_a_value_over_the_limit_is_refused_with_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "MAX_VALUE_MB", 1)
    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", 4096)
    document = results_document("x", [1000.0, 1100.0])
    document["sessions"][1]["session_id"] = "x" * (2 << 20)
    path = _write(tmp_path / "big.json", document)
    with pytest.raises(ResultsError, match=r"big\.json: session 2: larger than 1 MB"):
        read_run(path)
    document = results_document("x", [1000.0])
    document["environment"]["chromium"] = "x" * (2 << 20)
    path = _write(tmp_path / "big.json", document)
    with pytest.raises(ResultsError, match=r"big\.json: environment: larger than 1 MB"):
        load(path)


def test_a_syntax_error_after_a_bad_session_is_the_error(tmp_path: Path) -> None:
    # As when the whole file was parsed first: invalid JSON is the error, wherever it is.
    document = results_document("x", [1000.0, 1100.0])
    document["sessions"][0]["ok"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document)[:-1] + ",}", encoding="utf-8")
    with pytest.raises(ResultsError, match="not valid JSON"):
        read_run(path)
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"session 1: ok: expected true or false"):
        read_run(path)


def test_the_last_of_a_key_given_twice_counts_as_in_json_loads(tmp_path: Path) -> None:
    document = results_document("x", [1000.0, 1100.0])
    text = json.dumps(document)
    sessions = json.dumps(document["sessions"][:1])
    path = tmp_path / "twice.json"
    path.write_text(text[:-1] + f', "sessions": {sessions}}}', encoding="utf-8")
    assert read_run(path).session_count == 1
    path.write_text(text[:-1] + ', "sessions": {}}', encoding="utf-8")
    with pytest.raises(ResultsError, match="sessions: expected a list, got an object"):
        read_run(path)


def test_too_many_top_level_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({f"k{n}": n for n in range(results.MAX_KEYS + 1)}), "utf-8")
    with pytest.raises(ResultsError, match=r"keys\.json: not a qrbench results file \(more than"):
        read_run(path)
    path.write_text("{}", "utf-8")
    with pytest.raises(ResultsError, match="no schema_version"):
        read_run(path)
