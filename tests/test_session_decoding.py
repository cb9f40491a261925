import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from qrbench.columns import MeasuredSessions
from qrbench.records import RecordError, SessionResult, SpanTiming
from qrbench.session_decoding import decode_session
from tests.test_results import retried_session


def _full_session() -> dict[str, Any]:
    """A session with every kind of nested record, spans included, as a file holds it."""
    span = SpanTiming("Client.initialize", "gateway", "ab", None, 10.0, 900.0, "request", True)
    record = dataclasses.replace(retried_session(), spans=[span])
    full: dict[str, Any] = json.loads(json.dumps(record.to_dict()))
    return full


def _paths(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key and item of a session, nested ones included (the first item of a list)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from _paths(value[0], (*path, 0))


BAD_VALUES: list[object] = [None, True, 0, -1, -0.5, 1.5, 2**64, 1e308, "x", {}, []]


def _variants() -> Iterator[tuple[str, dict[str, Any]]]:
    base = _full_session()
    for path in _paths(base):
        *parents, last = path
        for value in [*BAD_VALUES, "drop"]:
            changed = copy.deepcopy(base)
            target: Any = changed
            for key in parents:
                target = target[key]
            if value == "drop":
                if isinstance(last, int):
                    continue
                del target[last]
            else:
                target[last] = value
            yield f"{path}={value!r}", changed


def _records_verdict(session: dict[str, Any]) -> MeasuredSessions | None:
    try:
        return MeasuredSessions.of([SessionResult.from_dict(session)])
    except RecordError:
        return None


def _decoded_verdict(session: dict[str, Any]) -> MeasuredSessions | None:
    try:
        return MeasuredSessions.of([decode_session(msgspec.Raw(json.dumps(session).encode()))])
    except (msgspec.DecodeError, RecordError):
        return None


def test_the_decoder_accepts_exactly_the_sessions_the_records_accept_with_the_same_columns() -> (
    None
):
    accepted = refused = 0
    for name, variant in _variants():
        by_records, decoded = _records_verdict(variant), _decoded_verdict(variant)
        assert (decoded is None) == (by_records is None), name
        assert decoded == by_records, name
        accepted += decoded is not None
        refused += decoded is None
    # Most changes break a session; some (a count of 0, a dropped key older files lack) do not.
    assert accepted > 20
    assert refused > 200


def test_a_session_written_before_later_keys_decodes_with_what_it_implied() -> None:
    older = _full_session()
    for key in ("qr_delivered_ms", "attempts", "spans", "refs_delivered"):
        del older[key]
    decoded = decode_session(msgspec.Raw(json.dumps(older).encode()))
    assert decoded.attempts == [] and decoded.spans == [] and decoded.started_ms is None
    assert MeasuredSessions.of([decoded]) == MeasuredSessions.of([SessionResult.from_dict(older)])


@pytest.mark.parametrize("escape", ['"\\ud800"', '"a\\udfffb"'])
def test_json_the_decoder_cannot_take_is_a_decode_error_not_a_verdict(escape: str) -> None:
    # A lone surrogate is valid JSON to Python but not to msgspec: the reader falls back.
    text = json.dumps(_full_session()).replace('"s1"', escape)
    with pytest.raises(msgspec.DecodeError):
        decode_session(msgspec.Raw(text.encode()))
