"""The results file: the contract later commands and CI users read (see results/README.md).

It is rewritten atomically after every finished session, so a crash loses nothing finished.
Reading it back gives typed records (`SavedResults`), checked once, here.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from qrbench.analysis.summary import RunSummary
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


class ResultsFile:
    """One run's results on disk; `header` holds everything but sessions and summary."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._header = header
        self._sessions: list[dict[str, Any]] = []
        self._summary: dict[str, Any] | None = None
        self._status = RunStatus.RUNNING

    def add_session(self, session: SessionResult) -> None:
        self._sessions.append(session.to_dict())
        self._write()

    def set_summary(self, summary: RunSummary, status: RunStatus = RunStatus.COMPLETE) -> None:
        """The run ended, completely or not: its summary and how far it got."""
        self._summary = summary.to_dict()
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
class SavedResults:
    """A results file read back: the header later commands use, typed sessions, the summary."""

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
    # Every session, warmups included, in the order run.
    sessions: list[SessionResult]
    # As written: None until the run ended.
    summary: dict[str, Any] | None
    status: RunStatus

    @property
    def measured(self) -> list[SessionResult]:
        """The sessions the statistics are over: warmups left out."""
        return [session for session in self.sessions if not session.warmup]

    @classmethod
    def from_dict(cls, document: object, path: Path) -> Self:
        """`document` as a results file of this schema; raises ResultsError naming the field."""
        if not isinstance(document, dict) or "schema_version" not in document:
            raise ResultsError(f"{path}: not a qrbench results file (no schema_version)")
        version = document["schema_version"]
        if type(version) is not int or version != SCHEMA_VERSION:
            raise ResultsError(
                f"{path}: schema_version {shown(version)} is not supported "
                f"(this qrbench reads {SCHEMA_VERSION})"
            )
        try:
            fields = Fields(document)
            profile, scenario = fields.nested("profile"), fields.nested("scenario")
            return cls(
                path=path,
                qrbench_version=fields.read("qrbench_version", str),
                run_id=fields.read("run_id", str),
                plan=fields.read("plan", dict[str, Any]),
                profile=profile.data,
                profile_name=profile.read("name", str),
                scenario=scenario.data,
                scenario_name=scenario.read("name", str),
                environment=_environment(fields.nested("environment")),
                sessions=_sessions(fields.items("sessions")),
                summary=fields.read("summary", dict[str, Any] | None),
                status=_status(fields),
            )
        except RecordError as exc:
            raise ResultsError(f"{path}: {exc}") from None


def _sessions(items: list[object]) -> list[SessionResult]:
    sessions = []
    for position, item in enumerate(items, start=1):
        try:
            sessions.append(SessionResult.from_dict(item))
        except RecordError as exc:
            raise RecordError(f"session {position}: {exc}") from None
    return sessions


def _status(fields: Fields) -> RunStatus:
    if "status" not in fields.data:
        return _status_of_older_file(fields.data)
    value = fields.read("status", str)
    try:
        return RunStatus(value)
    except ValueError:
        known = ", ".join(status.value for status in RunStatus)
        raise RecordError(f"status: expected one of {known}, got {shown(value)}") from None


def _status_of_older_file(document: dict[str, Any]) -> RunStatus:
    """Files from before `status`: fewer sessions than their plan means stopped early."""
    plan, sessions = document.get("plan"), document.get("sessions")
    planned = [plan.get(key) for key in ("runs", "warmup")] if isinstance(plan, dict) else []
    known = bool(planned) and all(type(count) is int for count in planned)
    if known and isinstance(sessions, list) and len(sessions) < sum(planned):
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


def load(path: Path) -> SavedResults:
    """Read a results file written by this or an older-compatible qrbench."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ResultsError(f"{path}: not a qrbench results file (nested too deeply)") from None
    return SavedResults.from_dict(document, path)
