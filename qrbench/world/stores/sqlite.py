"""RemoteAuth store in a SQLite file: the fallback when no Redis can be had."""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from qrbench.world.stores.base import SessionMissing, unavailable_on

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS remote_sessions (
    session TEXT PRIMARY KEY,
    data BLOB,
    saved_at REAL
)
"""
_UPSERT = """
INSERT INTO remote_sessions (session, data, saved_at) VALUES (?, ?, ?)
ON CONFLICT (session) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at
"""
_BUSY_TIMEOUT_S = 5.0  # concurrent sessions write the same file: wait for its lock, then fail


class SqliteStore:
    """One connection per call, each in a worker thread: a sqlite3 connection must not
    cross threads, and `asyncio.to_thread` may pick a different thread every time."""

    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._name = f"sqlite {path}"
        with unavailable_on((sqlite3.Error, OSError), self._name, "create table"):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._transaction(lambda db: db.execute(_SCHEMA))

    async def session_exists(self, session: str) -> bool:
        def exists(db: sqlite3.Connection) -> bool:
            query = "SELECT 1 FROM remote_sessions WHERE session = ?"
            return db.execute(query, (session,)).fetchone() is not None

        return await self._call(f"look up {session}", exists)

    async def save(self, session: str, zip_path: Path) -> None:
        def save(db: sqlite3.Connection) -> None:
            db.execute(_UPSERT, (session, zip_path.read_bytes(), time.time()))

        await self._call(f"save {session}", save)

    async def extract(self, session: str, zip_path: Path) -> None:
        def extract(db: sqlite3.Connection) -> None:
            query = "SELECT data FROM remote_sessions WHERE session = ?"
            row = db.execute(query, (session,)).fetchone()
            if row is None:
                raise SessionMissing(f"{self._name} holds no session {session!r}")
            zip_path.write_bytes(row[0])

        await self._call(f"extract {session}", extract)

    async def delete(self, session: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM remote_sessions WHERE session = ?", (session,))

        await self._call(f"delete {session}", delete)

    async def close(self) -> None:
        """Nothing stays open between calls."""

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        # closing() closes the connection; `db` as a context manager only ends the
        # transaction (commit on success, rollback on error).
        with contextlib.closing(connection) as db, db:
            return work(db)

    async def _call(self, operation: str, work: Callable[[sqlite3.Connection], T]) -> T:
        # Only the database's failures mean "unavailable"; a zip file that cannot be read
        # or written is the caller's problem and keeps its own type.
        with unavailable_on((sqlite3.Error,), self._name, operation):
            return await asyncio.to_thread(self._transaction, work)
