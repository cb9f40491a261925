"""The scenario's link to the RemoteAuth store: a relay in front of a real Redis."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from qrbench.config.models import OriginNetwork, Store, StoreBackend
from qrbench.world.pacing import UNSHAPED
from qrbench.world.stores import UNLINKED_SQLITE_WARNING, open_store
from qrbench.world.stores.link import store_link
from qrbench.world.stores.private_redis import PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        yield server


async def _pings_s(url: str, count: int) -> float:
    """The median time of `count` PINGs at `url` (after one to connect)."""
    client = Redis.from_url(url)
    try:
        await client.ping()
        times = []
        for _ in range(count):
            started = time.monotonic()
            await client.ping()
            times.append(time.monotonic() - started)
        return sorted(times)[count // 2]
    finally:
        await client.aclose()


def test_each_command_costs_the_links_round_trip(private_redis: PrivateRedis) -> None:
    async def measure() -> tuple[float, float]:
        direct = await _pings_s(private_redis.url, 5)
        async with store_link(private_redis.url, OriginNetwork(latency_ms=200)) as url:
            return direct, await _pings_s(url, 5)

    direct_s, linked_s = asyncio.run(measure())
    # One round trip per command: 200 ms, with room for a loaded machine above it.
    assert 0.2 <= linked_s - direct_s < 0.45


def test_the_links_rate_holds_a_large_value_back(private_redis: PrivateRedis) -> None:
    value = bytes(48 * 1024)  # 48 KB at 400 kbit/s (50 KB/s): about a second

    async def set_and_get(url: str) -> float:
        client = Redis.from_url(url)
        try:
            started = time.monotonic()
            await client.set("k", value)
            assert await client.get("k") == value
            return time.monotonic() - started
        finally:
            await client.aclose()

    async def measure() -> float:
        link = OriginNetwork(upload_kbps=400, download_kbps=400)
        async with store_link(private_redis.url, link) as url:
            return await set_and_get(url)

    # Up and down again: each way about 0.98 s at 50 KB/s.
    assert 1.8 <= asyncio.run(measure()) < 4.0


def test_the_relay_keeps_the_urls_credentials_and_database() -> None:
    async def url_of(upstream: str) -> str:
        async with store_link(upstream, UNSHAPED) as url:
            return url

    linked = asyncio.run(url_of("redis://user:secret@10.0.0.9:6380/3"))
    assert linked.startswith("redis://user:secret@127.0.0.1:") and linked.endswith("/3")
    assert asyncio.run(url_of("unix:///run/redis.sock?db=2")).endswith("/2")


def test_a_relay_whose_redis_is_gone_closes_the_connection(tmp_path: Path) -> None:
    async def ping_through() -> None:
        gone = f"unix://{tmp_path / 'no-redis.sock'}"
        async with store_link(gone, OriginNetwork(latency_ms=10)) as url:
            client = Redis.from_url(url, socket_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()

    with pytest.raises(RedisConnectionError):
        asyncio.run(ping_through())


def test_a_store_opened_over_a_link_says_so_and_sqlite_warns(
    private_redis: PrivateRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QRBENCH_REDIS_URL", private_redis.url)
    link = OriginNetwork(latency_ms=50)

    async def describe(backend: StoreBackend) -> tuple[str, str | None]:
        async with open_store(Store(backend=backend), workdir=tmp_path, link=link) as opened:
            return opened.description, opened.warning

    description, warning = asyncio.run(describe(StoreBackend.REDIS))
    assert "through a relay: network.store 50 ms" in description and warning is None
    assert asyncio.run(describe(StoreBackend.SQLITE))[1] == UNLINKED_SQLITE_WARNING
