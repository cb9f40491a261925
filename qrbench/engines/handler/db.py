"""The gateway's own database (SQLite): the account row the QR path reads and writes.

Shaped like the study's `whatsapp_accounts` table. The row for a session is created
before the session starts (the user's "add account" click made it); the QR path then
routes, dedupes and updates it, each statement real and committed.
"""

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_never

from qrbench.config.models import DbUpdates, Routing

# The study's dedupe window: a QR generated less than this long ago is not sent again.
DEDUPE_WINDOW_S = 300.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS whatsapp_accounts (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    session_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    last_activity_at TEXT,
    assigned_instance_index INTEGER,
    assigned_instance_url TEXT,
    last_qr_at REAL
);
CREATE INDEX IF NOT EXISTS whatsapp_accounts_workspace ON whatsapp_accounts (workspace_id);
CREATE TABLE IF NOT EXISTS chats (
    session_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    name TEXT,
    is_group INTEGER NOT NULL,
    unread INTEGER NOT NULL,
    last_message TEXT,
    timestamp INTEGER,
    PRIMARY KEY (session_id, chat_id)
);
"""


@dataclass(frozen=True)
class Assignment:
    index: int
    url: str


def instance_url(index: int) -> str:
    return f"http://whatsapp-instance-{index}:3001"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class GatewayDb:
    """One connection per run, as a gateway process keeps one; every write commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.executescript(_SCHEMA)
        # Per session, so sessions in flight together each count only their own.
        self._statements: Counter[str] = Counter()

    def close(self) -> None:
        self._conn.close()

    def statements(self, session_id: str) -> int:
        """The gateway's statements on behalf of this session so far."""
        return self._statements[session_id]

    def _execute(self, session_id: str, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        self._statements[session_id] += 1
        return self._conn.execute(sql, params)

    def _transaction(self, session_id: str, sql: str, params: tuple[Any, ...]) -> None:
        self._conn.execute("BEGIN")
        self._execute(session_id, sql, params)
        self._conn.execute("COMMIT")

    def create_account(self, workspace_id: int, session_id: str) -> None:
        self._conn.execute(
            "INSERT INTO whatsapp_accounts (workspace_id, session_id, status, last_activity_at)"
            " VALUES (?, ?, 'pending', ?)",
            (workspace_id, session_id, _now()),
        )

    def route(self, session_id: str, workspace_id: int, routing: Routing) -> Assignment:
        """The study's instance routing: a DB read for the assignment, then a modulo."""
        if not routing.multi_instance:
            return Assignment(0, instance_url(0))
        row = self._execute(
            session_id,
            "SELECT assigned_instance_index FROM whatsapp_accounts"
            " WHERE workspace_id = ? AND assigned_instance_index IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (workspace_id,),
        ).fetchone()
        index = row[0] if row is not None else workspace_id % routing.instances
        return Assignment(index, instance_url(index))

    def record_qr(self, session_id: str, updates: DbUpdates, assignment: Assignment) -> None:
        """Mark the account as showing a QR and assign its instance."""
        match updates:
            case DbUpdates.COMBINED:
                self._transaction(
                    session_id,
                    "UPDATE whatsapp_accounts SET status = 'qr_scanning', last_activity_at = ?,"
                    " assigned_instance_index = ?, assigned_instance_url = ?"
                    " WHERE session_id = ?",
                    (_now(), assignment.index, assignment.url, session_id),
                )
            case DbUpdates.SPLIT:
                self._transaction(
                    session_id,
                    "UPDATE whatsapp_accounts SET status = 'qr_scanning', last_activity_at = ?"
                    " WHERE session_id = ?",
                    (_now(), session_id),
                )
                self._transaction(
                    session_id,
                    "UPDATE whatsapp_accounts SET assigned_instance_index = ?,"
                    " assigned_instance_url = ? WHERE session_id = ?",
                    (assignment.index, assignment.url, session_id),
                )
            case _:
                assert_never(updates)

    def dedupe_allows(self, session_id: str) -> bool:
        """The study's QR dedupe: False when this session got a QR under 300 s ago."""
        row = self._execute(
            session_id,
            "SELECT last_qr_at FROM whatsapp_accounts WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        now = time.time()
        if row is not None and row[0] is not None and now - row[0] < DEDUPE_WINDOW_S:
            return False
        self._transaction(
            session_id,
            "UPDATE whatsapp_accounts SET last_qr_at = ? WHERE session_id = ?",
            (now, session_id),
        )
        return True

    def upsert_chats(self, session_id: str, chats: list[dict[str, Any]]) -> None:
        self._conn.execute("BEGIN")
        self._statements[session_id] += len(chats)
        self._conn.executemany(
            "INSERT INTO chats (session_id, chat_id, name, is_group, unread, last_message,"
            " timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id, chat_id) DO UPDATE SET name = excluded.name,"
            " unread = excluded.unread, last_message = excluded.last_message,"
            " timestamp = excluded.timestamp",
            [
                (
                    session_id,
                    chat["id"],
                    chat.get("name"),
                    int(bool(chat.get("is_group"))),
                    int(chat.get("unread", 0)),
                    chat.get("last_message"),
                    chat.get("timestamp"),
                )
                for chat in chats
            ],
        )
        self._conn.execute("COMMIT")
