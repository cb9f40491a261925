"""Server-side pacing: round trip before the answer, bodies carried at the link's rate.

Timing checks are lower bounds only: the machine is shared, so anything may be slower.
"""

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from qrbench.config.models import OriginNetwork
from qrbench.errors import QrbenchError
from qrbench.world import pacing
from qrbench.world.loopback import LoopbackServer

BODY = bytes(range(256)) * 400  # 100 KiB, every byte value, so truncation or reordering shows
MAX_REQUEST_BYTES = 64 * 1024


class Peer:
    """A one-path app: GET answers BODY over `link`; POST reads the body over it, says its size."""

    def __init__(self, link: OriginNetwork) -> None:
        self.link = link
        self._server = LoopbackServer("pacing test peer", QrbenchError, shutdown_timeout_s=1.0)

    def start(self) -> str:
        (address,) = self._server.bind(1)
        self._server.serve(self._apps)
        return f"http://{address}/"

    def stop(self) -> None:
        self._server.stop()

    def _apps(self) -> list[web.Application]:
        async def download(request: web.Request) -> web.StreamResponse:
            await pacing.round_trip(self.link)
            return await pacing.send(
                request, self.link, BODY, content_type="application/octet-stream"
            )

        async def upload(request: web.Request) -> web.StreamResponse:
            body = await pacing.read_body(request, self.link)
            return await pacing.send(
                request, pacing.UNSHAPED, str(len(body)).encode(), content_type="text/plain"
            )

        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_get("/", download)
        app.router.add_post("/", upload)
        return [app]


@pytest.fixture
def serve() -> Iterator[list[Peer]]:
    """Peers a test starts; all stopped afterwards."""
    peers: list[Peer] = []
    yield peers
    for peer in peers:
        peer.stop()


def start(serve: list[Peer], link: OriginNetwork) -> str:
    peer = Peer(link)
    serve.append(peer)
    return peer.start()


async def timed_get(url: str) -> tuple[float, list[tuple[float, int]], bytes]:
    """Seconds to the response headers, (seconds, bytes) per body chunk, and the body."""
    started = time.monotonic()
    chunks: list[tuple[float, int]] = []
    body = bytearray()
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        headers_s = time.monotonic() - started
        async for chunk in response.content.iter_any():
            chunks.append((time.monotonic() - started, len(chunk)))
            body += chunk
    return headers_s, chunks, bytes(body)


async def timed_post(url: str, body: bytes) -> tuple[float, int, str]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as http, http.post(url, data=body) as response:
        text = await response.text()
    return time.monotonic() - started, response.status, text


def test_kbps_are_kilobits() -> None:
    assert pacing.bytes_per_s(800) == 100_000


def test_latency_is_spent_before_the_response_starts(serve: list[Peer]) -> None:
    url = start(serve, OriginNetwork(latency_ms=150))

    headers_s, _, body = asyncio.run(timed_get(url))

    assert headers_s >= 0.150
    assert body == BODY


def test_download_streams_the_real_body_at_the_link_rate(serve: list[Peer]) -> None:
    url = start(serve, OriginNetwork(download_kbps=800))  # 100 000 bytes/s

    _, chunks, body = asyncio.run(timed_get(url))

    assert body == BODY
    first_s, last_s = chunks[0][0], chunks[-1][0]
    assert last_s >= len(BODY) / 100_000 - 0.01  # 1.02 s, less the clock's granularity
    # Streamed, not held back and sent at once: the bytes come spread over the second.
    assert last_s - first_s >= 0.5
    assert len(chunks) >= 10


def test_upload_reads_the_request_body_at_the_link_rate(serve: list[Peer]) -> None:
    url = start(serve, OriginNetwork(upload_kbps=400))  # 50 000 bytes/s
    request_body = BODY[: 50 * 1024]

    elapsed_s, status, text = asyncio.run(timed_post(url, request_body))

    assert (status, text) == (200, str(len(request_body)))
    assert elapsed_s >= len(request_body) / 50_000 - 0.01


def test_unshaped_link_serves_whole_bodies(serve: list[Peer]) -> None:
    url = start(serve, pacing.UNSHAPED)

    _, _, body = asyncio.run(timed_get(url))
    _, status, text = asyncio.run(timed_post(url, BODY[:MAX_REQUEST_BYTES]))

    assert body == BODY
    assert (status, text) == (200, str(MAX_REQUEST_BYTES))


@pytest.mark.parametrize("link", [pacing.UNSHAPED, OriginNetwork(upload_kbps=8000)])
def test_request_body_over_the_apps_limit_is_refused_with_413(
    serve: list[Peer], link: OriginNetwork
) -> None:
    url = start(serve, link)

    _, status, _ = asyncio.run(timed_post(url, BODY[: MAX_REQUEST_BYTES + 1]))

    assert status == 413
