"""aiohttp applications on 127.0.0.1 ephemeral ports, served from their own thread.

The replica may be told to listen elsewhere (`--replica-bind`) so that browsers on other
machines reach it; everything else stays on loopback.

Each server runs its own asyncio event loop on a background thread, so serving never
competes with the harness's event loop for timing. The replica and the webhook
receiver both stand on it.
"""

import asyncio
import concurrent.futures
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable

from aiohttp import web

from qrbench.errors import QrbenchError

BIND_ADDRESS = "127.0.0.1"
_WILDCARDS = ("0.0.0.0", "::")


def reachable_as(bind_address: str) -> str:
    """The host part of a URL that reaches a server bound to `bind_address`.

    A wildcard bind listens on every interface; other machines are sent to this machine's
    host name, which they must resolve (docs/browsers.md).
    """
    host = socket.gethostname() if bind_address in _WILDCARDS else bind_address
    return f"[{host}]" if ":" in host else host


_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


class LoopbackServer:
    """Bind first (so the ports are known), then serve the apps a factory builds.

    `error` is the exception type a failure to listen, start or stop is reported as.
    `shutdown_timeout_s` is how long in-flight requests get when the server stops.
    """

    def __init__(self, name: str, error: type[QrbenchError], *, shutdown_timeout_s: float) -> None:
        self.name = name
        self._error = error
        self._shutdown_timeout_s = shutdown_timeout_s
        self._sockets: list[socket.socket] = []
        # Per socket: the TLS context it serves with, None for plain HTTP.
        self._tls: list[ssl.SSLContext | None] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    def bind(
        self,
        count: int,
        address: str = BIND_ADDRESS,
        tls: ssl.SSLContext | None = None,
        first_port: int | None = None,
    ) -> list[str]:
        """Listen on `count` more ports of `address` (ephemeral ones, or `first_port` and
        those after it), speaking TLS with `tls` if given; returns their "HOST:PORT" as a
        URL names them (`reachable_as`). Apps are served in the order bound."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        ports = [0] * count if first_port is None else list(range(first_port, first_port + count))
        bound: list[socket.socket] = []
        try:
            for port in ports:
                bound.append(socket.create_server((address, port), family=family))
        except OSError as exc:
            for sock in bound:
                sock.close()
            self._close_sockets()
            where = address if first_port is None else f"{address} port {port}"
            raise self._error(f"{self.name} cannot listen on {where}: {exc}") from exc
        self._sockets += bound
        self._tls += [tls] * count
        host = reachable_as(address)
        return [f"{host}:{sock.getsockname()[1]}" for sock in bound]

    def serve(self, make_apps: Callable[[], list[web.Application]]) -> None:
        """Serve one app per bound socket; blocks until they accept connections.

        The apps are built on the server's own loop, where their handlers will run.
        """
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._stop_requested = asyncio.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(self._loop, self._stop_requested, make_apps, started),
            name=f"qrbench-{self.name}",
            daemon=True,
        )
        self._thread.start()
        try:
            started.result(timeout=_START_TIMEOUT_S)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, Exception):
                raise self._error(f"{self.name} could not start: {exc!r}") from exc
            raise

    def stop(self) -> None:
        """Close every socket and connection, join the thread. Idempotent."""
        if self._thread is None or self._loop is None or self._stop_requested is None:
            self._close_sockets()
            return
        with contextlib.suppress(RuntimeError):  # the loop already ended on a failed start
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(_STOP_TIMEOUT_S)
        if self._thread.is_alive():
            raise self._error(f"{self.name} did not stop within {_STOP_TIMEOUT_S:.0f} s")
        self._thread = self._loop = self._stop_requested = None
        self._sockets = []
        self._tls = []

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        self._tls = []

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        stop_requested: asyncio.Event,
        make_apps: Callable[[], list[web.Application]],
        started: concurrent.futures.Future[None],
    ) -> None:
        # asyncio.Runner cancels leftover tasks and closes the loop when serving ends.
        with asyncio.Runner(loop_factory=lambda: loop) as runner:
            runner.run(self._serve(stop_requested, make_apps, started))

    async def _serve(
        self,
        stop_requested: asyncio.Event,
        make_apps: Callable[[], list[web.Application]],
        started: concurrent.futures.Future[None],
    ) -> None:
        runners: list[web.AppRunner] = []
        try:
            for app, sock, tls in zip(make_apps(), self._sockets, self._tls, strict=True):
                runner = web.AppRunner(
                    app, access_log=None, shutdown_timeout=self._shutdown_timeout_s
                )
                runners.append(runner)
                await runner.setup()
                await web.SockSite(runner, sock, ssl_context=tls).start()
        except Exception as exc:
            started.set_exception(exc)
        else:
            started.set_result(None)
            await stop_requested.wait()
        finally:
            for runner in runners:
                await runner.cleanup()
            # Sockets a site never took over would otherwise stay open.
            for sock in self._sockets:
                sock.close()
