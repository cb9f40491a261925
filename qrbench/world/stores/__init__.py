"""RemoteAuth session stores behind one interface, and the choice of one for a run."""

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from qrbench.config.models import OriginNetwork, Store, StoreBackend
from qrbench.errors import ConfigError, EnvironmentProblem
from qrbench.world.pacing import UNSHAPED
from qrbench.world.stores.base import SessionMissing, SessionStore, StoreUnavailable
from qrbench.world.stores.link import store_link
from qrbench.world.stores.private_redis import PrivateRedis, redis_server_path
from qrbench.world.stores.redis import RedisStore, check_url, redact_url
from qrbench.world.stores.sqlite import SqliteStore

__all__ = [
    "NO_REDIS_WARNING",
    "REDIS_URL_ENV",
    "OpenedStore",
    "RunStores",
    "SessionMissing",
    "SessionStore",
    "StoreUnavailable",
    "open_store",
]

REDIS_URL_ENV = "QRBENCH_REDIS_URL"
SQLITE_FILE = "remote-sessions.db"
NO_REDIS_WARNING = (
    f"no Redis available (redis-server not on PATH, {REDIS_URL_ENV} unset): "
    "RemoteAuth uses the SQLite store, so its timings are not Redis timings"
)
UNLINKED_SQLITE_WARNING = (
    "the scenario's network.store is not applied: the SQLite store is a file on this machine"
)


@dataclass(frozen=True)
class OpenedStore:
    store: SessionStore
    description: str  # which backend and where, e.g. "redis (private, unix:///tmp/...)"
    warning: str | None = None


@contextlib.asynccontextmanager
async def open_store(
    config: Store, *, workdir: Path, link: OriginNetwork = UNSHAPED
) -> AsyncIterator[OpenedStore]:
    """The store a run's RemoteAuth sessions use, closed (and a private Redis stopped)
    when the block exits, however it exits.

    sqlite: a file in `workdir`. redis: `config.url`, else $QRBENCH_REDIS_URL, else a
    private redis-server. auto: as redis when a URL is set or redis-server is on PATH,
    else SQLite with a warning. A Redis asked for but not to be had is EnvironmentProblem.
    A Redis is reached over `link` (the scenario's network.store), through a relay.
    """
    async with contextlib.AsyncExitStack() as resources:
        opened = await _open(config, workdir, resources, link)
        if link != UNSHAPED and isinstance(opened.store, SqliteStore):
            opened = OpenedStore(opened.store, opened.description, UNLINKED_SQLITE_WARNING)
        yield opened


class RunStores:
    """The stores of one run, one per distinct store section: `explain`'s variants and
    `compare`'s sides share a private Redis instead of starting one each. Sessions keep
    apart by name (their run's id is in it). A shared SQLite file lives in the workdir of
    the first profile that asked. `resources` closes them when the run ends."""

    def __init__(self, resources: contextlib.AsyncExitStack) -> None:
        self._resources = resources
        self._opened: dict[tuple[Store, OriginNetwork], OpenedStore] = {}

    async def open(
        self, config: Store, *, workdir: Path, link: OriginNetwork = UNSHAPED
    ) -> tuple[OpenedStore, bool]:
        """The store for `config` over `link`, and whether this call opened it (False:
        shared)."""
        key = (config, link)
        if key in self._opened:
            return self._opened[key], False
        opened = await self._resources.enter_async_context(
            open_store(config, workdir=workdir, link=link)
        )
        self._opened[key] = opened
        return opened, True


async def _open(
    config: Store, workdir: Path, resources: contextlib.AsyncExitStack, link: OriginNetwork
) -> OpenedStore:
    if config.backend is StoreBackend.SQLITE:
        return _sqlite(workdir, warning=None)
    if config.url:
        return await _redis(config.url, "auth.store.url", resources, link)
    env_url = os.environ.get(REDIS_URL_ENV)
    if env_url:
        return await _redis(env_url, REDIS_URL_ENV, resources, link)
    if redis_server_path() is not None:
        # Started from the event loop's own thread, not a worker: a start cancelled
        # half-way in a thread could leave a redis-server nobody stops.
        private = resources.enter_context(PrivateRedis())
        opened = await _redis(private.url, "private redis-server", resources, link)
        where = opened.description.removeprefix(f"redis {private.url}")
        return OpenedStore(opened.store, f"redis (private, {private.url}){where}")
    if config.backend is StoreBackend.REDIS:
        raise EnvironmentProblem(
            "store backend 'redis' needs a Redis: install redis-server "
            f"(apt-get install redis-server), or set {REDIS_URL_ENV} or auth.store.url"
        )
    return _sqlite(workdir, warning=NO_REDIS_WARNING)


def _sqlite(workdir: Path, *, warning: str | None) -> OpenedStore:
    path = workdir / SQLITE_FILE
    try:
        store = SqliteStore(path)
    except StoreUnavailable as error:
        raise EnvironmentProblem(f"cannot open the SQLite store: {error}") from error
    return OpenedStore(store, f"sqlite {path}", warning)


async def _redis(
    url: str, source: str, resources: contextlib.AsyncExitStack, link: OriginNetwork
) -> OpenedStore:
    try:
        check_url(url)  # before a relay is put in front of it
    except ValueError as error:
        raise ConfigError(f"{source}: {redact_url(url)!r} is not a Redis URL: {error}") from error
    reached = url
    where = ""
    if link != UNSHAPED:
        reached = await resources.enter_async_context(store_link(url, link))
        where = f", through a relay: network.store {link.latency_ms} ms"
    store = RedisStore(reached)
    resources.push_async_callback(_close_quietly, store)
    try:
        await store.ping()
    except StoreUnavailable as error:
        raise EnvironmentProblem(
            f"Redis at {redact_url(url)} (from {source}) does not answer PING: start it or "
            f"fix {source} ({error.__cause__})"
        ) from error
    return OpenedStore(store, f"redis {redact_url(url)}{where}")


async def _close_quietly(store: RedisStore) -> None:
    # A Redis that died during the run has already failed its sessions; failing the
    # teardown as well would hide their results behind a second error.
    with contextlib.suppress(StoreUnavailable):
        await store.close()
