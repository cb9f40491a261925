"""The streaming reader: what json.loads reads, read a value at a time, at any chunk size.

A results file msgspec decodes is read mapped (`results._mapped`); one it cannot, such as
one with a lone surrogate escape anywhere (valid JSON to Python), by the streaming reader.
The reading tests run both ways and must agree."""

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


READERS = ["mapped", "streamed"]


def _read_back(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _write(path: Path, document: dict[str, Any], reader: str = "mapped") -> Path:
    """`document` as a results file that `reader` reads."""
    if reader == "streamed":
        document = {**document, "note": "\ud800"}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_both_readers_give_the_same_run_and_the_same_chosen_records(tmp_path: Path) -> None:
    document = results_document("x", [1000.0, None, 1200.5, 900.0], warmup_ms=9.0)
    mapped = _write(tmp_path / "mapped.json", document)
    streamed = _write(tmp_path / "streamed.json", document, "streamed")
    assert "\\ud800" in streamed.read_text(encoding="utf-8")
    runs = [read_run(mapped), read_run(streamed)]
    assert runs[0].columns == runs[1].columns
    assert runs[0].session_count == runs[1].session_count == 5
    seen: list[MeasuredSessions] = []

    def fastest_and_failed(columns: MeasuredSessions) -> results.Keep:
        seen.append(columns)
        fastest = columns.qr_numbers[columns.qr_times.index(min(columns.qr_times))]
        return lambda session: session.number == fastest or not session.ok

    chosen = [results.read_some(path, fastest_and_failed) for path in (mapped, streamed)]
    assert seen == [runs[0].columns, runs[0].columns]
    assert [[s.number for s in saved.sessions] for saved in chosen] == [[3, 5], [3, 5]]
    assert chosen[0].sessions == chosen[1].sessions


@pytest.mark.parametrize("reader", READERS)
def test_read_run_gives_the_columns_load_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", 97)
    document = results_document("x", [1000.0, None, 1200.5], warmup_ms=9.0)
    path = _write(tmp_path / "run.json", document, reader)
    whole, streamed = load(path), read_run(path)
    assert streamed.columns == MeasuredSessions.of(whole.sessions)
    assert streamed.session_count == len(whole.sessions) == 4
    assert list(streamed.columns.numbers) == [2, 3, 4]
    assert list(streamed.columns.qr_times) == [1000.0, 1200.5]
    assert streamed.columns.succeeded == 2
    assert [f.count for f in streamed.columns.failures] == [1]


@pytest.mark.parametrize("reader", READERS)
def test_a_value_over_the_limit_is_refused_with_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    monkeypatch.setattr(results, "MAX_VALUE_MB", 1)
    monkeypatch.setattr(jsonstream, "CHUNK_CHARS", 4096)
    document = results_document("x", [1000.0, 1100.0])
    document["sessions"][1]["session_id"] = "x" * (2 << 20)
    path = _write(tmp_path / "big.json", document, reader)
    with pytest.raises(ResultsError, match=r"big\.json: session 2: larger than 1 MB"):
        read_run(path)
    document = results_document("x", [1000.0])
    document["environment"]["chromium"] = "x" * (2 << 20)
    path = _write(tmp_path / "big.json", document, reader)
    with pytest.raises(ResultsError, match=r"big\.json: environment: larger than 1 MB"):
        load(path)


@pytest.mark.parametrize("reader", READERS)
def test_a_syntax_error_after_a_bad_session_is_the_error(tmp_path: Path, reader: str) -> None:
    # As when the whole file was parsed first: invalid JSON is the error, wherever it is.
    document = results_document("x", [1000.0, 1100.0])
    document["sessions"][0]["ok"] = 1
    path = _write(tmp_path / "bad.json", document, reader)
    path.write_text(path.read_text(encoding="utf-8")[:-1] + ",}", encoding="utf-8")
    with pytest.raises(ResultsError, match=r"bad\.json:\d+: not valid JSON"):
        read_run(path)
    _write(path, document, reader)
    with pytest.raises(ResultsError, match=r"session 1: ok: expected true or false"):
        read_run(path)


@pytest.mark.parametrize("reader", READERS)
def test_the_last_of_a_key_given_twice_counts_as_in_json_loads(tmp_path: Path, reader: str) -> None:
    document = _read_back(
        _write(tmp_path / "once.json", results_document("x", [1000.0, 1100.0]), reader)
    )
    text = json.dumps(document)
    sessions = json.dumps(document["sessions"][:1])
    path = tmp_path / "twice.json"
    path.write_text(text[:-1] + f', "sessions": {sessions}}}', encoding="utf-8")
    assert read_run(path).session_count == 1
    path.write_text(text[:-1] + ', "sessions": {}}', encoding="utf-8")
    with pytest.raises(ResultsError, match="sessions: expected a list, got an object"):
        read_run(path)


@pytest.mark.parametrize("reader", READERS)
def test_too_many_top_level_keys_are_refused(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "keys.json"
    keys = {f"k{n}": n for n in range(results.MAX_KEYS + 1)}
    _write(path, keys, reader)
    with pytest.raises(ResultsError, match=r"keys\.json: not a qrbench results file \(more than"):
        read_run(path)
    # A key given twice counts once, as the document json.loads gives has it once.
    text = json.dumps({f"k{n}": n for n in range(results.MAX_KEYS - 1)})
    path.write_text(text[:-1] + ', "k0": 1, "k1": 2}', "utf-8")
    with pytest.raises(ResultsError, match="no schema_version"):
        read_run(path)
    path.write_text("{}", "utf-8")
    with pytest.raises(ResultsError, match="no schema_version"):
        read_run(path)
