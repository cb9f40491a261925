"""The RemoteAuth store interface, after whatsapp-web.js's (wwebjs-mongo, wwebjs-redis).

whatsapp-web.js hands a store the session name and a zip on disk; the store keeps the
zip's bytes. Backends share this Protocol and the error translation, nothing else.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from qrbench.errors import SessionFailure


class StoreUnavailable(SessionFailure):
    """The store's backend could not be reached (died, refused, timed out)."""


class SessionMissing(SessionFailure):
    """`extract` asked for a session the store does not hold."""


class SessionStore(Protocol):
    backend: str  # "redis" or "sqlite", recorded in results

    async def session_exists(self, session: str) -> bool: ...

    async def save(self, session: str, zip_path: Path) -> None:
        """Store the bytes of the zip at `zip_path` under `session`."""
        ...

    async def extract(self, session: str, zip_path: Path) -> None:
        """Write the bytes stored under `session` to `zip_path`."""
        ...

    async def delete(self, session: str) -> None: ...

    async def close(self) -> None: ...


@contextlib.contextmanager
def unavailable_on(
    errors: tuple[type[Exception], ...], backend: str, operation: str
) -> Iterator[None]:
    """Turn the backend's own failures into `StoreUnavailable`, so a dead backend
    becomes a recorded failed session rather than a traceback."""
    try:
        yield
    except errors as error:
        raise StoreUnavailable(f"{backend}: {operation} failed: {error}") from error
