"""Server-side pacing: a scenario's declared link applied by qrbench's own HTTP peers.

The browser's links are emulated inside Chromium (`qrbench.world.emulation`); requests
the harness itself makes (the remote web-version fetch, the webhook POST) never pass
through Chromium, so the servers that answer them pace the real bytes instead:
- the whole round trip (`latency_ms`) is spent once per request, before the response
  starts, as CDP counts its `latency` from request sent to response headers received;
- the response body is written in small chunks, each no sooner than the link would have
  carried it at `download_kbps`;
- the request body is read in small chunks at `upload_kbps`, so a fast client stalls on
  TCP back-pressure as it would on a slow uplink (a body smaller than the socket buffers
  is sent at once, but still not answered before the link would have carried it).
"""

import asyncio
from collections.abc import Mapping

from aiohttp import web

from qrbench.config.models import OriginNetwork

UNSHAPED = OriginNetwork()
"""Loopback as it is: no added round trip, no rate limit."""

# Chunks worth this much link time: fine enough that the bytes arrive evenly, coarse
# enough that a fast link costs few wake-ups.
_CHUNK_S = 0.02
# Unpaced bodies still go in bounded chunks, so one over the size limit is refused after
# at most this many bytes more.
_UNPACED_CHUNK_BYTES = 64 * 1024


def bytes_per_s(kbps: float) -> float:
    """A link rate in kilobits per second as bytes per second (1 kbps = 125 B/s)."""
    return kbps * 1000 / 8


class _Pace:
    """Holds a byte stream to a link's rate: after n bytes, no sooner than n / rate."""

    def __init__(self, kbps: float | None) -> None:
        self._bytes_per_s = None if kbps is None else bytes_per_s(kbps)
        self._loop = asyncio.get_running_loop()
        self._started_at = self._loop.time()
        self._carried = 0

    @property
    def chunk_bytes(self) -> int:
        if self._bytes_per_s is None:
            return _UNPACED_CHUNK_BYTES
        return max(1, int(self._bytes_per_s * _CHUNK_S))

    async def carry(self, size: int) -> None:
        """Wait until the link has carried `size` more bytes since the stream started."""
        self._carried += size
        if self._bytes_per_s is None:
            return
        # Deadlines count from the start, so sleeps that overshoot do not add up.
        due = self._started_at + self._carried / self._bytes_per_s
        await asyncio.sleep(max(0.0, due - self._loop.time()))


async def read_body(request: web.Request, link: OriginNetwork) -> bytes:
    """The request body, taken no faster than `link.upload_kbps` carries it.

    Raises HTTP 413 beyond the app's `client_max_size`, as `request.read()` does.
    """
    pace = _Pace(link.upload_kbps)
    body = bytearray()
    while chunk := await request.content.read(pace.chunk_bytes):
        body += chunk
        if len(body) > request.client_max_size:
            raise web.HTTPRequestEntityTooLarge(
                max_size=request.client_max_size, actual_size=len(body)
            )
        await pace.carry(len(chunk))
    return bytes(body)


async def round_trip(link: OriginNetwork) -> None:
    """Spend the link's round trip; call it once per request, before the answer starts."""
    await asyncio.sleep(link.latency_ms / 1000)


async def send(
    request: web.Request,
    link: OriginNetwork,
    body: bytes,
    *,
    content_type: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.StreamResponse:
    """Answer with `body`, streamed no faster than `link.download_kbps` carries it."""
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = content_type
    response.content_length = len(body)
    await response.prepare(request)
    pace = _Pace(link.download_kbps)
    view = memoryview(body)
    for offset in range(0, len(body), pace.chunk_bytes):
        chunk = view[offset : offset + pace.chunk_bytes]
        await pace.carry(len(chunk))
        await response.write(chunk)
    await response.write_eof()
    return response
