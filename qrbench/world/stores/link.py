"""The scenario's link to the RemoteAuth store (`network.store`), applied by a relay.

The gateway reaches its Redis through a TCP relay on loopback that carries each
direction's bytes half the link's round trip late and no faster than its rates, so a
command and its answer cost one round trip more, as across a network: a real mechanism
around real Redis traffic, never a sleep in the client.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

from qrbench.config.models import OriginNetwork
from qrbench.world.loopback import BIND_ADDRESS
from qrbench.world.pacing import bytes_per_s

# Chunks as read; at a slow rate a big one waits for all of itself, as on a real link.
_CHUNK_BYTES = 16 * 1024


@contextlib.asynccontextmanager
async def store_link(url: str, link: OriginNetwork) -> AsyncIterator[str]:
    """A relay to the Redis at `url` over `link`, for the length of the block; yields the
    URL that reaches Redis through it (the same credentials and database)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_unix_connection(parts.path)

        database = parse_qs(parts.query).get("db", ["0"])[0]
    else:

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection(parts.hostname, parts.port or 6379)

        database = parts.path.lstrip("/") or "0"
    connections: set[asyncio.Task[None]] = set()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            upstream_reader, upstream_writer = await connect()
        except OSError:
            writer.close()
            connections.discard(task)
            return
        try:
            await asyncio.gather(
                _carry(reader, upstream_writer, link.latency_ms, link.upload_kbps),
                _carry(upstream_reader, writer, link.latency_ms, link.download_kbps),
            )
        finally:
            for side in (writer, upstream_writer):
                side.close()
            connections.discard(task)

    server = await asyncio.start_server(relay, BIND_ADDRESS, 0)
    port = server.sockets[0].getsockname()[1]
    userinfo = parts.netloc.rpartition("@")[0] if parts.scheme != "unix" else ""
    netloc = f"{userinfo}@{BIND_ADDRESS}:{port}" if userinfo else f"{BIND_ADDRESS}:{port}"
    try:
        yield urlunsplit(("redis", netloc, f"/{database}", "", ""))
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()


async def _carry(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    latency_ms: int,
    kbps: float | None,
) -> None:
    """Every chunk read from `source` to `sink`, each half a round trip after it was read
    and no faster than `kbps`; the order is kept. Ends when `source` does."""
    loop = asyncio.get_running_loop()
    half_trip_s = latency_ms / 2000
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        # When the link is free again: a connection idle for a while gets no burst.
        free_at = loop.time()
        while True:
            due, chunk = await queue.get()
            if not chunk:
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            if kbps is not None:
                free_at = max(loop.time(), free_at) + len(chunk) / bytes_per_s(kbps)
                await asyncio.sleep(free_at - loop.time())
            sink.write(chunk)
            await sink.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while chunk := await source.read(_CHUNK_BYTES):
            queue.put_nowait((loop.time() + half_trip_s, chunk))
        queue.put_nowait((loop.time(), b""))
        await delivering
        if sink.can_write_eof():
            sink.write_eof()
    except (ConnectionError, OSError):
        pass
    finally:
        delivering.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await delivering
