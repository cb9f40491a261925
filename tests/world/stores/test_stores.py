"""Session stores against a real redis-server and a real SQLite file, and the choice of one."""

import asyncio
import contextlib
import os
import signal
import stat
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from redis import Redis

from qrbench.config.models import Store, StoreBackend
from qrbench.errors import ConfigError, EnvironmentProblem
from qrbench.world.stores import (
    NO_REDIS_WARNING,
    REDIS_URL_ENV,
    OpenedStore,
    SessionMissing,
    SessionStore,
    StoreUnavailable,
    open_store,
)
from qrbench.world.stores.private_redis import PrivateRedis
from qrbench.world.stores.redis import SOCKET_TIMEOUT_S, RedisStore
from qrbench.world.stores.sqlite import SqliteStore

T = TypeVar("T")
CLOSED_PORT_URL = "redis://127.0.0.1:9"
SESSION = "RemoteAuth-abc"


def redis_server_pids() -> set[int]:
    """The redis-servers this test process started: others' test runs may share the machine."""
    pids = set()
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.name() == "redis-server" and child.status() != psutil.STATUS_ZOMBIE:
                pids.add(child.pid)
    return pids


@pytest.fixture(autouse=True)
def no_leftover_redis_server() -> Iterator[None]:
    before = redis_server_pids()
    yield
    leftover = redis_server_pids() - before
    assert not leftover, f"redis-server left running: {sorted(leftover)}"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def no_redis_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)


StoreFactory = Callable[[], SessionStore]


@pytest.fixture(params=["redis", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds the store inside the test's event loop: a redis.asyncio client is bound to it."""
    if request.param == "redis":
        server: PrivateRedis = request.getfixturevalue("private_redis")
        return lambda: RedisStore(server.url)
    return lambda: SqliteStore(tmp_path / "sessions.db")


def run_with_store(make_store: StoreFactory, use: Callable[[SessionStore], Awaitable[T]]) -> T:
    async def main() -> T:
        store = make_store()
        try:
            return await use(store)
        finally:
            await store.close()

    return asyncio.run(main())


def write_zip_bytes(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


# --- both backends ----------------------------------------------------------------------


def test_save_exists_extract_delete_round_trip(make_store: StoreFactory, tmp_path: Path) -> None:
    saved = write_zip_bytes(tmp_path / f"{SESSION}.zip", 3 * 2**20)
    extracted_path = tmp_path / "restore" / f"{SESSION}.zip"
    extracted_path.parent.mkdir()

    async def use(store: SessionStore) -> tuple[bool, bytes, bool]:
        await store.save(SESSION, tmp_path / f"{SESSION}.zip")
        exists_after_save = await store.session_exists(SESSION)
        await store.extract(SESSION, extracted_path)
        await store.delete(SESSION)
        return exists_after_save, extracted_path.read_bytes(), await store.session_exists(SESSION)

    exists_after_save, extracted, exists_after_delete = run_with_store(make_store, use)

    assert exists_after_save
    assert extracted == saved
    assert not exists_after_delete


def test_save_replaces_the_previous_backup(make_store: StoreFactory, tmp_path: Path) -> None:
    zip_path = tmp_path / f"{SESSION}.zip"

    async def use(store: SessionStore) -> bytes:
        write_zip_bytes(zip_path, 1000)
        await store.save(SESSION, zip_path)
        newer = write_zip_bytes(zip_path, 2000)
        await store.save(SESSION, zip_path)
        zip_path.unlink()
        await store.extract(SESSION, zip_path)
        return newer

    newer = run_with_store(make_store, use)

    assert zip_path.read_bytes() == newer


def test_unknown_session_does_not_exist(make_store: StoreFactory) -> None:
    assert (
        run_with_store(make_store, lambda store: store.session_exists("RemoteAuth-nobody")) is False
    )


def test_extracting_an_unknown_session_fails_as_missing(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    zip_path = tmp_path / "RemoteAuth-nobody.zip"

    with pytest.raises(SessionMissing):
        run_with_store(make_store, lambda store: store.extract("RemoteAuth-nobody", zip_path))
    assert not zip_path.exists()


def test_sessions_are_kept_apart(make_store: StoreFactory, tmp_path: Path) -> None:
    first = write_zip_bytes(tmp_path / "first.zip", 500)
    write_zip_bytes(tmp_path / "second.zip", 700)

    async def use(store: SessionStore) -> bytes:
        await store.save("RemoteAuth-first", tmp_path / "first.zip")
        await store.save("RemoteAuth-second", tmp_path / "second.zip")
        await store.delete("RemoteAuth-second")
        await store.extract("RemoteAuth-first", tmp_path / "out.zip")
        assert not await store.session_exists("RemoteAuth-second")
        return (tmp_path / "out.zip").read_bytes()

    assert run_with_store(make_store, use) == first


# --- private redis-server ---------------------------------------------------------------


def test_private_redis_answers_on_a_unix_socket_only_and_stops_completely() -> None:
    server = PrivateRedis().start()
    try:
        process = psutil.Process(server.pid)
        socket_path = server.socket_path
        with Redis(unix_socket_path=str(socket_path)) as client:
            assert client.ping()
        assert server.url == f"unix://{socket_path}"
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o700
        assert process.net_connections(kind="inet") == []
    finally:
        server.stop()

    assert not process.is_running()
    assert not socket_path.exists()
    assert not socket_path.parent.exists()
    server.stop()  # a second stop is a no-op


def test_private_redis_stops_when_its_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), PrivateRedis() as server:
        process = psutil.Process(server.pid)
        raise RuntimeError("boom")

    assert not process.is_running()


def test_private_redis_without_redis_server_on_path_is_an_environment_problem(
    no_redis_anywhere: None,
) -> None:
    with pytest.raises(EnvironmentProblem, match="apt-get install redis-server"):
        PrivateRedis().start()


# --- Redis failing under a session ------------------------------------------------------


def test_killed_redis_fails_the_next_call_as_unavailable(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    write_zip_bytes(tmp_path / f"{SESSION}.zip", 1000)

    async def use() -> float:
        store = RedisStore(private_redis.url)
        try:
            await store.save(SESSION, tmp_path / f"{SESSION}.zip")
            psutil.Process(private_redis.pid).kill()
            psutil.Process(private_redis.pid).wait(timeout=5)
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="redis"):
                await store.session_exists(SESSION)
            return time.monotonic() - started
        finally:
            await store.close()

    assert asyncio.run(use()) < SOCKET_TIMEOUT_S + 1


def test_hung_redis_fails_after_the_socket_timeout(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    write_zip_bytes(tmp_path / f"{SESSION}.zip", 1000)
    process = psutil.Process(private_redis.pid)

    async def use() -> float:
        store = RedisStore(private_redis.url, socket_timeout_s=0.5)
        try:
            await store.save(SESSION, tmp_path / f"{SESSION}.zip")
            process.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await store.extract(SESSION, tmp_path / "restored.zip")
            return time.monotonic() - started
        finally:
            process.send_signal(signal.SIGCONT)
            await store.close()

    assert asyncio.run(use()) < 0.5 + 1


# --- choosing the store for a run -------------------------------------------------------


def open_and_inspect(
    config: Store, workdir: Path, inspect: Callable[[OpenedStore], Awaitable[T]]
) -> T:
    async def main() -> T:
        async with open_store(config, workdir=workdir) as opened:
            return await inspect(opened)

    return asyncio.run(main())


async def describe(opened: OpenedStore) -> OpenedStore:
    return opened


async def round_trips(opened: OpenedStore, tmp_path: Path) -> bool:
    saved = write_zip_bytes(tmp_path / "check.zip", 4096)
    await opened.store.save(SESSION, tmp_path / "check.zip")
    await opened.store.extract(SESSION, tmp_path / "check-back.zip")
    return (tmp_path / "check-back.zip").read_bytes() == saved


def test_sqlite_backend_opens_a_file_in_the_workdir(tmp_path: Path) -> None:
    opened = open_and_inspect(Store(backend=StoreBackend.SQLITE), tmp_path, describe)

    assert isinstance(opened.store, SqliteStore)
    assert opened.store.backend == "sqlite"
    assert opened.description == f"sqlite {tmp_path / 'remote-sessions.db'}"
    assert opened.warning is None
    assert (tmp_path / "remote-sessions.db").is_file()


def test_auto_without_url_starts_a_private_redis_and_stops_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    before = redis_server_pids()

    async def inspect(opened: OpenedStore) -> tuple[OpenedStore, set[int], bool]:
        return opened, redis_server_pids(), await round_trips(opened, tmp_path)

    opened, during, works = open_and_inspect(Store(), tmp_path, inspect)

    assert isinstance(opened.store, RedisStore)
    assert opened.store.backend == "redis"
    assert opened.description.startswith("redis (private, unix://")
    assert opened.warning is None
    assert works
    assert len(during - before) == 1
    assert redis_server_pids() == before


def test_auto_without_any_redis_falls_back_to_sqlite_with_a_warning(
    no_redis_anywhere: None, tmp_path: Path
) -> None:
    async def inspect(opened: OpenedStore) -> tuple[OpenedStore, bool]:
        return opened, await round_trips(opened, tmp_path)

    opened, works = open_and_inspect(Store(backend=StoreBackend.AUTO), tmp_path, inspect)

    assert isinstance(opened.store, SqliteStore)
    assert opened.warning == NO_REDIS_WARNING
    assert works


def test_redis_backend_without_any_redis_is_an_environment_problem(
    no_redis_anywhere: None, tmp_path: Path
) -> None:
    with pytest.raises(EnvironmentProblem, match="install redis-server") as raised:
        open_and_inspect(Store(backend=StoreBackend.REDIS), tmp_path, describe)
    assert raised.value.exit_code == 3
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("backend", [StoreBackend.REDIS, StoreBackend.AUTO])
def test_a_url_that_does_not_answer_is_an_environment_problem(
    backend: StoreBackend, tmp_path: Path
) -> None:
    with pytest.raises(EnvironmentProblem, match=r"127\.0\.0\.1:9 .*does not answer PING"):
        open_and_inspect(Store(backend=backend, url=CLOSED_PORT_URL), tmp_path, describe)


def test_a_url_redis_cannot_use_is_a_config_error_naming_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"auth\.store\.url: 'http://cache:6379' is not a Redis"):
        open_and_inspect(Store(url="http://cache:6379"), tmp_path, describe)
    monkeypatch.setenv(REDIS_URL_ENV, "redis://cache:notaport")
    with pytest.raises(ConfigError, match=f"{REDIS_URL_ENV}: .* is not a Redis URL"):
        open_and_inspect(Store(), tmp_path, describe)


def test_the_environment_url_is_honoured(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(REDIS_URL_ENV, private_redis.url)
    before = redis_server_pids()

    async def inspect(opened: OpenedStore) -> tuple[OpenedStore, set[int], bool]:
        return opened, redis_server_pids(), await round_trips(opened, tmp_path)

    opened, during, works = open_and_inspect(Store(), tmp_path, inspect)

    assert opened.description == f"redis {private_redis.url}"
    assert during == before  # no private server of its own
    assert works
    with Redis(unix_socket_path=str(private_redis.socket_path)) as client:
        assert client.exists(SESSION)


def test_the_profile_url_wins_over_the_environment(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(REDIS_URL_ENV, CLOSED_PORT_URL)

    opened = open_and_inspect(Store(url=private_redis.url), tmp_path, describe)

    assert opened.description == f"redis {private_redis.url}"


def test_open_store_stops_its_redis_when_the_run_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    before = redis_server_pids()

    async def fail(opened: OpenedStore) -> None:
        raise RuntimeError("the run crashed")

    with pytest.raises(RuntimeError, match="the run crashed"):
        open_and_inspect(Store(backend=StoreBackend.REDIS), tmp_path, fail)
    assert redis_server_pids() == before


def test_open_store_stops_its_redis_when_the_run_is_cancelled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    before = redis_server_pids()

    async def main() -> set[int]:
        opened_event = asyncio.Event()

        async def run() -> None:
            async with open_store(Store(backend=StoreBackend.REDIS), workdir=tmp_path):
                opened_event.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(run())
        await opened_event.wait()
        during = redis_server_pids()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return during

    during = asyncio.run(main())

    assert len(during - before) == 1
    assert redis_server_pids() == before
