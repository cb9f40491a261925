"""The results file: the contract later commands and CI users read (see results/README.md).

It is rewritten atomically after every finished session, so a crash loses nothing finished.
Reading it back gives typed records (`SavedResults`), checked once, here.
"""

import bisect
import contextlib
import itertools
import json
import mmap
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Self, TextIO

import msgspec

from qrbench import jsonstream, session_decoding
from qrbench.columns import ColumnsBuilder, MeasuredSessions, SessionView
from qrbench.errors import ConfigError
from qrbench.outputs import write_output
from qrbench.records import Fields, RecordError, SessionResult, shown

SCHEMA_VERSION = 1


class ResultsError(ConfigError):
    """A results file that cannot be read as qrbench results."""


class RunStatus(StrEnum):
    """How far the run that wrote a results file got."""

    # Sessions are still being added; a file left so is from a run that was killed.
    RUNNING = "running"
    COMPLETE = "complete"
    # Stopped before its last session (a signal or an error); the summary covers the rest.
    INTERRUPTED = "interrupted"


def default_path(profile: str, scenario: str, directory: Path = Path("results")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"{stamp}-{profile}-{scenario}.json"


def reserve_default_path(profile: str, scenario: str, directory: Path = Path("results")) -> Path:
    """`default_path`, held for this run by creating it empty: two runs started in the same
    second into one directory get two names (`...-2.json`), not one file both rewrite.

    An empty file is what a run that wrote no session leaves; `release` removes it. Where
    nothing can be created, the plain name, for the output check to explain."""
    first = default_path(profile, scenario, directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for number in itertools.count(1):
            path = first if number == 1 else first.with_name(f"{first.stem}-{number}.json")
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                continue
            return path
    except OSError:
        pass
    return first


def release(path: Path) -> None:
    """Removes a reserved results file that no session was written to, and its folder when
    that leaves it empty: a run refused before its first session leaves nothing behind."""
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            path.unlink()
            path.parent.rmdir()  # only when empty


class ResultsFile:
    """One run's results on disk; `header` holds everything but sessions and summary."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._header = header
        self._sessions: list[dict[str, Any]] = []
        self._summary: dict[str, Any] | None = None
        self._status = RunStatus.RUNNING

    def add_session(self, session: SessionResult) -> None:
        """Add a finished session in the order started (sessions in flight together finish
        in any order) and rewrite the file; one synchronous rewrite, so no other session's
        can interleave with it."""
        bisect.insort(self._sessions, session.to_dict(), key=lambda record: record["number"])
        self._write()

    def set_summary(self, summary: dict[str, Any], status: RunStatus = RunStatus.COMPLETE) -> None:
        """The run ended, completely or not: its summary (as the analysis wrote it) and how
        far it got."""
        self._summary = summary
        self._status = status
        self._write()

    def document(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            **self._header,
            "status": self._status.value,
            "sessions": self._sessions,
            "summary": self._summary,
        }

    def _write(self) -> None:
        text = json.dumps(self.document(), indent=2, sort_keys=False)
        write_output(self.path, (text + "\n").encode("utf-8"), "results file")


@dataclass(frozen=True)
class SavedRun:
    """A results file read back for the analysis: the header later commands use, the
    measured sessions as columns (`read_run` builds them without keeping the records)."""

    path: Path
    qrbench_version: str
    run_id: str
    plan: dict[str, Any]
    # The resolved profile and scenario as recorded (validated by whoever uses them).
    profile: dict[str, Any]
    profile_name: str
    scenario: dict[str, Any]
    scenario_name: str
    environment: dict[str, Any]
    # Every session, warmups included.
    session_count: int
    # The sessions the statistics are over (warmups left out), as compare and gate read them.
    columns: MeasuredSessions
    # As written: None until the run ended.
    summary: dict[str, Any] | None
    status: RunStatus


@dataclass(frozen=True)
class SavedResults(SavedRun):
    """A results file read back whole: also every session's typed record (`load`)."""

    # Every session, warmups included, in the order run.
    sessions: list[SessionResult]

    @property
    def measured(self) -> list[SessionResult]:
        """The sessions the statistics are over: warmups left out."""
        return [session for session in self.sessions if not session.warmup]

    @classmethod
    def from_dict(cls, document: object, path: Path) -> Self:
        """`document` as a results file of this schema; raises ResultsError naming the field."""

        def sessions(fields: Fields) -> _Sessions:
            folded = _Sessions(keep=_every)
            for item in fields.items("sessions"):
                folded.add(item)
            return folded

        header, folded = _validated(document, path, sessions)
        return cls(**header, sessions=folded.records)


# Picks the sessions whose records to keep (reading only SessionView's fields of them).
Keep = Callable[[SessionView], bool]
# The `Keep` of a file, from its measured sessions' columns: which of them a report draws
# depends on their times (the fastest, the median...).
Chooser = Callable[[MeasuredSessions], Keep]


def _every(session: SessionView) -> bool:
    return True


class _Sessions:
    """A file's sessions as they go by: each checked as a record, folded into columns (and
    kept when `keep` picks it), then dropped. The first bad one is the error; the rest are
    only counted, so a streamed file is still read to its end for a syntax error further on."""

    def __init__(self, *, keep: Keep | None) -> None:
        self.count = 0
        self._keep = keep
        self.records: list[SessionResult] = []
        self._columns = ColumnsBuilder()
        self._error: str | None = None

    def add(self, item: object) -> None:
        self.count += 1
        if self._error is None:
            self._fold(item)

    def add_encoded(self, encoded: msgspec.Raw) -> None:
        """A session as its JSON: checked by `session_decoding`, `records` deciding only
        what that refuses; raises msgspec.DecodeError where msgspec cannot decode it."""
        self.count += 1
        if self._error is not None:
            return
        try:
            checked = session_decoding.decode_session(encoded)
        except msgspec.ValidationError:
            self._fold(msgspec.json.decode(encoded))
            return
        try:
            self._columns.add(checked)
        except RecordError as exc:
            self._error = f"session {self.count}: {exc}"
            return
        if self._keep is not None and self._keep(checked):
            self.records.append(SessionResult.from_dict(msgspec.json.decode(encoded)))

    def _fold(self, item: object) -> None:
        try:
            session = SessionResult.from_dict(item)
            self._columns.add(session)
        except RecordError as exc:
            self._error = f"session {self.count}: {exc}"
            return
        if self._keep is not None and self._keep(session):
            self.records.append(session)

    def pick_encoded(self, elements: list[msgspec.Raw], keep: "Keep") -> None:
        """Keep the records `keep` picks among `elements`, the sessions `add_encoded` took
        (each checked already): only what `keep` reads is decoded of the others."""
        for element in elements:
            try:
                seen: SessionView = _PICKING.decode(element)
            except msgspec.ValidationError:
                seen = SessionResult.from_dict(msgspec.json.decode(element))
            if keep(seen):
                self.records.append(SessionResult.from_dict(msgspec.json.decode(element)))

    @property
    def bad(self) -> bool:
        return self._error is not None

    def columns(self) -> MeasuredSessions:
        """The measured sessions' columns; raises the first bad session's RecordError."""
        if self._error is not None:
            raise RecordError(self._error)
        return self._columns.build()


def check_schema_version(version: object, path: Path, supported: int) -> None:
    """Raises ResultsError unless a file's `schema_version` is the one this qrbench reads."""
    if type(version) is not int or version != supported:
        raise ResultsError(
            f"{path}: schema_version {shown(version)} is not supported "
            f"(this qrbench reads {supported})"
        )


def _validated(
    document: object, path: Path, read_sessions: Callable[[Fields], "_Sessions"]
) -> tuple[dict[str, Any], "_Sessions"]:
    """SavedRun's fields of `document`, checked in one order whichever way it was read, and
    its sessions as `read_sessions` gives them; raises ResultsError naming the field."""
    if not isinstance(document, dict) or "schema_version" not in document:
        raise ResultsError(f"{path}: not a qrbench results file (no schema_version)")
    check_schema_version(document["schema_version"], path, SCHEMA_VERSION)
    try:
        fields = Fields(document)
        profile, scenario = fields.nested("profile"), fields.nested("scenario")
        header: dict[str, Any] = {
            "path": path,
            "qrbench_version": fields.read("qrbench_version", str),
            "run_id": fields.read("run_id", str),
            "plan": fields.read("plan", dict[str, Any]),
            "profile": profile.data,
            "profile_name": profile.read("name", str),
            "scenario": scenario.data,
            "scenario_name": scenario.read("name", str),
            "environment": _environment(fields.nested("environment")),
        }
        folded = read_sessions(fields)
        header.update(
            session_count=folded.count,
            columns=folded.columns(),
            summary=fields.read("summary", dict[str, Any] | None),
            status=_status(fields, folded.count),
        )
        return header, folded
    except RecordError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def _status(fields: Fields, session_count: int) -> RunStatus:
    if "status" not in fields.data:
        return _status_of_older_file(fields.data, session_count)
    value = fields.read("status", str)
    try:
        return RunStatus(value)
    except ValueError:
        known = ", ".join(status.value for status in RunStatus)
        raise RecordError(f"status: expected one of {known}, got {shown(value)}") from None


def _status_of_older_file(document: dict[str, Any], session_count: int) -> RunStatus:
    """Files from before `status`: fewer sessions than their plan means stopped early."""
    plan = document.get("plan")
    planned = [plan.get(key) for key in ("runs", "warmup")] if isinstance(plan, dict) else []
    known = bool(planned) and all(type(count) is int for count in planned)
    if known and session_count < sum(planned):
        return RunStatus.INTERRUPTED
    return RunStatus.COMPLETE


def _environment(fields: Fields) -> dict[str, Any]:
    # Values are read for warnings (Chromium build, cores, load): scalars or a list of them,
    # never a structure deep enough to make printing it recurse.
    for key, value in fields.data.items():
        items = value if isinstance(value, list) else [value]
        if not all(item is None or isinstance(item, str | int | float) for item in items):
            raise RecordError(
                f"{fields.path(key)}: expected a string, number, true/false, null or a list "
                f"of them, got {shown(value)}"
            )
    return fields.data


# No value of a results file qrbench writes comes near this: a session is a few KB, the
# header and summary a few dozen. A bigger one is refused, not read: memory stays bounded.
MAX_VALUE_MB = 8
# Keys of the top-level object, a key given twice counting once: qrbench writes about ten.
MAX_KEYS = 1000


def load(path: Path) -> SavedResults:
    """Read a results file written by this or an older-compatible qrbench, every record kept
    (the runner's and tests' files; compare and gate use `read_run`)."""
    return read_some(path, lambda columns: _every)


def read_some(path: Path, choose: Chooser) -> SavedResults:
    """Read a results file as `read_run` does, and the records of the sessions that
    `choose(columns)` picks (called once per session, in order): what a report draws."""
    header, folded = _read(path, choose=choose)
    return SavedResults(**header, sessions=folded.records)


def read_run(path: Path) -> SavedRun:
    """Read a results file for the analysis in bounded memory: its sessions are streamed,
    each checked as `load` checks it, and only the columns the statistics need are kept."""
    header, _ = _read(path, choose=None)
    return SavedRun(**header)


def _read(path: Path, *, choose: Chooser | None) -> tuple[dict[str, Any], _Sessions]:
    try:
        with path.open("rb") as file:
            decoded = _mapped(file, choose=choose)
        if decoded is None:
            decoded = _streamed_twice(path, choose)
        document, folded = decoded
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    except jsonstream.JsonSyntaxError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except jsonstream.ValueTooLarge as exc:
        raise ResultsError(f"{path}: {_too_large(exc)}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ResultsError(f"{path}: not a qrbench results file (nested too deeply)") from None
    return _validated(document, path, lambda fields: _streamed_sessions(fields, folded))


# A top-level object's members with their values still encoded; an array's elements so.
_MEMBERS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ELEMENTS = msgspec.json.Decoder(list[msgspec.Raw])
# What a `Keep` reads of a session.
_PICKING = msgspec.json.Decoder(session_decoding.picking_struct())


def _mapped(file: BinaryIO, *, choose: Chooser | None) -> tuple[object, _Sessions | None] | None:
    """The document and sessions as `_streamed` gives them, decoded by msgspec from the
    file mapped into memory: ten times faster, and not copied (its pages are the kernel's
    cache of the file). None where msgspec does not decode it or a value is over the
    limits: the standard reader then reads it and says what is wrong, as ever."""
    info = os.fstat(file.fileno())
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return None
    try:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        decoded = _decoded(mapped, choose)
    except msgspec.DecodeError:
        decoded = None
    # Nothing decoded refers to the mapping any more: every value was copied out of it.
    mapped.close()
    return decoded


def _decoded(encoded: mmap.mmap, choose: Chooser | None) -> tuple[object, _Sessions | None] | None:
    members = _MEMBERS.decode(encoded)
    if len(members) > MAX_KEYS:
        return None
    document: dict[str, object] = {}
    folded: _Sessions | None = None
    for key, value in members.items():
        elements = _elements(value) if key == "sessions" else None
        if elements is not None:
            if any(len(element) > MAX_VALUE_MB << 20 for element in elements):
                return None
            folded = _Sessions(keep=None)
            for element in elements:
                folded.add_encoded(element)
            if choose is not None and not folded.bad:
                folded.pick_encoded(elements, choose(folded.columns()))
            document[key] = _STREAMED
        elif len(value) > MAX_VALUE_MB << 20:
            return None
        else:
            document[key] = msgspec.json.decode(value)
    return document, folded


def _streamed_twice(path: Path, choose: Chooser | None) -> tuple[object, _Sessions | None]:
    """`_streamed`, and when records are chosen from the columns, once more to keep them."""
    with path.open(encoding="utf-8") as file:
        document, folded = _streamed(file, path, keep=None)
    if choose is None or folded is None or folded.bad:
        return document, folded
    keep = choose(folded.columns())
    with path.open(encoding="utf-8") as file:
        _, again = _streamed(file, path, keep=keep)
    assert again is not None
    folded.records = again.records
    return document, folded


def _elements(encoded: msgspec.Raw) -> list[msgspec.Raw] | None:
    """An array's elements, still encoded; None for a value not an array."""
    try:
        return _ELEMENTS.decode(encoded)
    except msgspec.ValidationError:
        return None


def _streamed(file: TextIO, path: Path, *, keep: Keep | None) -> tuple[object, _Sessions | None]:
    """The document without its sessions array, and that array folded as it was read.

    Nothing is checked but the syntax until the end, as when the whole file was parsed
    first: a syntax error anywhere is the error, whatever else is wrong.
    """
    members: dict[str, object] = {}
    document: object = members
    folded: _Sessions | None = None
    for event in jsonstream.events(file, "sessions", MAX_VALUE_MB << 20):
        match event:
            case jsonstream.NotAnObject(value):
                document = value
                continue
            case jsonstream.Element(_, _, value):
                assert folded is not None
                folded.add(value)
                continue
        if event.key not in members and len(members) == MAX_KEYS:
            raise ResultsError(f"{path}: not a qrbench results file (more than {MAX_KEYS} keys)")
        match event:
            case jsonstream.ArrayStart(key):
                # The last of a key given twice is the one that counts, as in json.loads.
                folded = _Sessions(keep=keep)
                members[key] = _STREAMED
            case jsonstream.Member(key, value):
                members[key] = value
    return document, folded


# Stands for the sessions array in a streamed document: its elements went to `_Sessions`.
_STREAMED = object()


def _streamed_sessions(fields: Fields, folded: _Sessions | None) -> _Sessions:
    if fields.data.get("sessions") is _STREAMED:
        assert folded is not None
        return folded
    fields.items("sessions")  # raises: missing, or not a list
    raise AssertionError("an array of sessions is always streamed")


def _too_large(exc: jsonstream.ValueTooLarge) -> str:
    limit = f"larger than {MAX_VALUE_MB} MB"
    if exc.key is None:
        return f"not a qrbench results file (a JSON value {limit}, not an object)"
    if exc.index is not None:
        return f"session {exc.index + 1}: {limit} (qrbench writes a session in a few KB)"
    return f"{exc.key}: {limit}"
