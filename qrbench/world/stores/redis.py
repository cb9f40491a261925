"""RemoteAuth store on Redis, as wwebjs-redis keeps it: the zip's bytes under the session name."""

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from qrbench.world.stores.base import SessionMissing, unavailable_on

SOCKET_TIMEOUT_S = 5.0
"""A hung Redis must fail the session, not hang it: every connect and reply waits this long."""

_REDIS_ERRORS = (RedisError, OSError)


def redact_url(url: str) -> str:
    """The URL with any password replaced, for descriptions, results and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def check_url(url: str) -> None:
    """Raises ValueError for a URL redis-py cannot use: the check `RedisStore` makes, without
    a client."""
    parse_url(url)


class RedisStore:
    backend = "redis"

    def __init__(self, url: str, *, socket_timeout_s: float = SOCKET_TIMEOUT_S) -> None:
        """`url`: `redis://host:port/db` or `unix:///path/redis.sock`. Raises ValueError
        for a URL redis-py cannot use."""
        self.url = url
        self._name = f"redis {redact_url(url)}"
        self._client = Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
            # Retries would turn a dead or hung Redis into several timeouts of silence, and
            # redis-py's defaults for them differ between versions; a benchmark wants the
            # failure once, when it happens.
            retry=Retry(NoBackoff(), retries=0),
        )

    async def ping(self) -> None:
        with unavailable_on(_REDIS_ERRORS, self._name, "PING"):
            await self._client.ping()

    async def session_exists(self, session: str) -> bool:
        with unavailable_on(_REDIS_ERRORS, self._name, f"EXISTS {session}"):
            return bool(await self._client.exists(session))

    async def save(self, session: str, zip_path: Path) -> None:
        data = await asyncio.to_thread(zip_path.read_bytes)
        with unavailable_on(_REDIS_ERRORS, self._name, f"SET {session}"):
            await self._client.set(session, data)

    async def extract(self, session: str, zip_path: Path) -> None:
        with unavailable_on(_REDIS_ERRORS, self._name, f"GET {session}"):
            data = await self._client.get(session)
        if data is None:
            raise SessionMissing(f"{self._name} holds no session {session!r}")
        await asyncio.to_thread(zip_path.write_bytes, data)

    async def delete(self, session: str) -> None:
        with unavailable_on(_REDIS_ERRORS, self._name, f"DEL {session}"):
            await self._client.delete(session)

    async def close(self) -> None:
        with unavailable_on(_REDIS_ERRORS, self._name, "close"):
            await self._client.aclose()
