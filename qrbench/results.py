"""The results file: the contract later commands and CI users read (see results/README.md).

It is rewritten atomically after every finished session, so a crash loses nothing finished.
"""

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qrbench.analysis.summary import RunSummary
from qrbench.atomic import write_atomic
from qrbench.errors import ConfigError
from qrbench.records import SessionResult

SCHEMA_VERSION = 1


class ResultsError(ConfigError):
    """A results file that cannot be read as qrbench results."""


def default_path(profile: str, scenario: str, directory: Path = Path("results")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"{stamp}-{profile}-{scenario}.json"


def session_to_dict(session: SessionResult) -> dict[str, Any]:
    record = asdict(session)
    record["stages"] = [
        {k: stage[k] for k in ("name", "start_ms", "duration_ms", "critical", "ok")}
        for stage in record["stages"]
    ]
    for stage in record["stages"]:
        stage["start_ms"] = round(stage["start_ms"], 1)
        stage["duration_ms"] = round(stage["duration_ms"], 1)
    return record


class ResultsFile:
    """One run's results on disk; `header` holds everything but sessions and summary."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._header = header
        self._sessions: list[dict[str, Any]] = []
        self._summary: dict[str, Any] | None = None

    def add_session(self, session: SessionResult) -> None:
        self._sessions.append(session_to_dict(session))
        self._write()

    def set_summary(self, summary: RunSummary) -> None:
        self._summary = summary.to_dict()
        self._write()

    def document(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            **self._header,
            "sessions": self._sessions,
            "summary": self._summary,
        }

    def _write(self) -> None:
        text = json.dumps(self.document(), indent=2, sort_keys=False)
        write_atomic(self.path, (text + "\n").encode("utf-8"))


def load(path: Path) -> dict[str, Any]:
    """Read a results file written by this or an older-compatible qrbench."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or "schema_version" not in document:
        raise ResultsError(f"{path}: not a qrbench results file (no schema_version)")
    if document["schema_version"] != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {document['schema_version']} is not supported "
            f"(this qrbench reads {SCHEMA_VERSION})"
        )
    return document
