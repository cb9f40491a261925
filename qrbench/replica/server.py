"""The replica's three loopback origins (page, static bundles, version host) and its QR socket."""

import asyncio
import base64
import concurrent.futures
import contextlib
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import qrcode
from aiohttp import WSCloseCode, WSMsgType, web

from qrbench.errors import ReplicaError
from qrbench.replica import content

WHATSAPP_HOST = "web.wa-replica.test"
STATIC_HOST = "static.wa-replica.test"
VERSION_HOST = "versions.wa-replica.test"

_BIND_ADDRESS = "127.0.0.1"
_APP_JS = Path(__file__).with_name("static") / "app.js"
_START_TIMEOUT_S = 30.0
# Handlers end as soon as their sockets close, so a long grace period would only hide a bug.
_SHUTDOWN_TIMEOUT_S = 2.0
_STOP_TIMEOUT_S = 10.0
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class ReplicaConfig:
    version: str = "2.3000.1017054665"
    index_kb: int = 600
    bundle_kb: int = 4096
    bundles: int = 4
    refs: int = 6
    first_ttl_s: float = 60.0
    next_ttl_s: float = 20.0

    def __post_init__(self) -> None:
        content.check_version(self.version)
        for name in ("index_kb", "bundle_kb", "bundles", "refs"):
            if getattr(self, name) < 1:
                raise ValueError(f"ReplicaConfig.{name} must be at least 1")
        if self.first_ttl_s <= 0 or self.next_ttl_s <= 0:
            raise ValueError("ReplicaConfig ref lifetimes must be positive")


@dataclass(frozen=True)
class ReplicaUrls:
    whatsapp: str
    static: str
    version_host: str
    loopback: dict[str, str]

    def host_resolver_rules(self) -> str:
        """The value of Chromium's `--host-resolver-rules` that reaches the stable names."""
        return ", ".join(f"MAP {host} {address}" for host, address in self.loopback.items())

    def to_loopback(self, url: str) -> str:
        """`url` with a stable host name replaced by its 127.0.0.1:PORT; others unchanged."""
        parts = urlsplit(url)
        address = self.loopback.get(parts.hostname or "")
        return url if address is None else urlunsplit(parts._replace(netloc=address))

    @property
    def index_url_loopback(self) -> str:
        """The page for a person's browser, which knows nothing of the stable names."""
        return self.to_loopback(self.whatsapp)


def new_qr_string() -> str:
    """A fresh `REF,NOISE,IDENTITY,ADV` login string in WhatsApp's format."""
    ref = "2@" + base64.b64encode(secrets.token_bytes(66)).decode()
    keys = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))
    return ",".join((ref, *keys))


def qr_matrix(text: str) -> list[str]:
    """The QR modules of `text` as rows of "0"/"1", without quiet zone.

    Real WhatsApp composes the string and encodes the QR in the browser; the replica encodes
    it here so the page needs no JS QR encoder. Drawing the modules costs the page next to
    nothing either way, so timing stays faithful.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    code.add_data(text)
    code.make(fit=True)
    return ["".join("1" if dark else "0" for dark in row) for row in code.get_matrix()]


@dataclass(frozen=True)
class _Served:
    """Everything the origins answer with, built before they listen."""

    index_stable: bytes
    index_loopback: bytes
    scripts: dict[str, bytes]


class Replica:
    """The three origins on one background thread with its own asyncio event loop,
    so serving never competes with the harness's event loop for timing."""

    def __init__(self, config: ReplicaConfig = ReplicaConfig()) -> None:
        self.config = config
        self._bundle_bodies: list[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._chats: set[web.WebSocketResponse] = set()

    def __enter__(self) -> ReplicaUrls:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def index_html(self, version: str) -> bytes:
        """The index of `version` as served under the stable names (for caches and tests)."""
        return content.build_index(
            version, self.config.index_kb, self.config.bundles, f"http://{STATIC_HOST}"
        )

    def start(self) -> ReplicaUrls:
        """Listen on three ephemeral loopback ports; blocks until all three accept."""
        if self._thread is not None:
            raise RuntimeError("replica already started")
        config = self.config
        scripts = self._scripts()
        sockets = _listen_on_loopback(count=3)
        loopback = {
            host: f"{_BIND_ADDRESS}:{sock.getsockname()[1]}"
            for host, sock in zip((WHATSAPP_HOST, STATIC_HOST, VERSION_HOST), sockets, strict=True)
        }
        served = _Served(
            index_stable=self.index_html(config.version),
            index_loopback=content.build_index(
                config.version, config.index_kb, config.bundles, f"http://{loopback[STATIC_HOST]}"
            ),
            scripts=scripts,
        )
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._stop_requested = asyncio.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(self._loop, self._stop_requested, sockets, served, started),
            name="qrbench-replica",
            daemon=True,
        )
        self._thread.start()
        try:
            started.result(timeout=_START_TIMEOUT_S)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, Exception):
                raise ReplicaError(f"replica could not start: {exc!r}") from exc
            raise
        return ReplicaUrls(
            whatsapp=f"http://{WHATSAPP_HOST}/",
            static=f"http://{STATIC_HOST}/",
            version_host=f"http://{VERSION_HOST}/",
            loopback=loopback,
        )

    def stop(self) -> None:
        """Close every socket (listening and WebSocket), cancel ref timers, join the thread."""
        if self._thread is None or self._loop is None or self._stop_requested is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already ended on a failed start
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(_STOP_TIMEOUT_S)
        if self._thread.is_alive():
            raise ReplicaError(f"replica did not stop within {_STOP_TIMEOUT_S:.0f} s")
        self._thread = self._loop = self._stop_requested = None

    def _scripts(self) -> dict[str, bytes]:
        """Every script the static origin serves, by file name; bundles are built only once."""
        config = self.config
        if self._bundle_bodies is None:
            self._bundle_bodies = content.build_bundles(
                config.version, config.bundle_kb, config.bundles
            )
        try:
            app_js = _APP_JS.read_bytes()
        except OSError as exc:
            raise ReplicaError(f"replica app script is missing: {exc}") from exc
        bodies = [*self._bundle_bodies, app_js]
        return dict(zip(content.script_names(config.bundles), bodies, strict=True))

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        stop_requested: asyncio.Event,
        sockets: list[socket.socket],
        served: _Served,
        started: concurrent.futures.Future[None],
    ) -> None:
        # asyncio.Runner cancels leftover tasks and closes the loop when serving ends.
        with asyncio.Runner(loop_factory=lambda: loop) as runner:
            runner.run(self._serve(stop_requested, sockets, served, started))

    async def _serve(
        self,
        stop_requested: asyncio.Event,
        sockets: list[socket.socket],
        served: _Served,
        started: concurrent.futures.Future[None],
    ) -> None:
        runners: list[web.AppRunner] = []
        try:
            apps = [
                self._whatsapp_app(served),
                _static_app(served),
                _version_app(self.config, served),
            ]
            for app, sock in zip(apps, sockets, strict=True):
                runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
                runners.append(runner)
                await runner.setup()
                await web.SockSite(runner, sock).start()
        except Exception as exc:
            started.set_exception(exc)
        else:
            started.set_result(None)
            await stop_requested.wait()
        finally:
            for runner in runners:
                await runner.cleanup()
            # Sockets a site never took over would otherwise stay open.
            for sock in sockets:
                sock.close()

    def _whatsapp_app(self, served: _Served) -> web.Application:
        async def index(request: web.Request) -> web.Response:
            stable = request.url.host == WHATSAPP_HOST
            body = served.index_stable if stable else served.index_loopback
            return web.Response(body=body, content_type="text/html", headers=_NO_STORE)

        async def close_chats(_app: web.Application) -> None:
            await asyncio.gather(
                *(
                    chat.close(code=WSCloseCode.GOING_AWAY, message=b"replica stopping")
                    for chat in list(self._chats)
                )
            )

        app = web.Application()
        app.router.add_get("/", index)
        app.router.add_get("/ws/chat", self._chat)
        app.on_shutdown.append(close_chats)
        return app

    async def _chat(self, request: web.Request) -> web.WebSocketResponse:
        """Push `refs` refs, each when the previous one expires, then say they ran out."""
        chat = web.WebSocketResponse(timeout=_SHUTDOWN_TIMEOUT_S)
        await chat.prepare(request)
        self._chats.add(chat)
        try:
            for number in range(self.config.refs):
                qr_string = new_qr_string()
                await chat.send_json(
                    {"type": "ref", "ref": qr_string, "matrix": qr_matrix(qr_string)}
                )
                ttl_s = self.config.first_ttl_s if number == 0 else self.config.next_ttl_s
                if not await _stay_open(chat, ttl_s):
                    return chat
            await chat.send_json({"type": "refs-exhausted"})
            await chat.close()
        finally:
            self._chats.discard(chat)
        return chat


def _listen_on_loopback(count: int) -> list[socket.socket]:
    """`count` listening sockets on ephemeral loopback ports, bound before anything serves."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(socket.create_server((_BIND_ADDRESS, 0)))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ReplicaError(f"replica cannot listen on {_BIND_ADDRESS}: {exc}") from exc
    return sockets


async def _stay_open(chat: web.WebSocketResponse, seconds: float) -> bool:
    """Wait `seconds` while answering the peer's frames; False as soon as the socket closes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining_s := deadline - loop.time()) > 0:
        try:
            message = await chat.receive(timeout=remaining_s)
        except TimeoutError:
            return True
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return False
    return True


def _static_app(served: _Served) -> web.Application:
    async def bundle(request: web.Request) -> web.Response:
        body = served.scripts.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/javascript", headers=_NO_STORE)

    app = web.Application()
    app.router.add_get("/bundles/{name}", bundle)
    return app


def _version_app(config: ReplicaConfig, served: _Served) -> web.Application:
    async def version_html(request: web.Request) -> web.Response:
        if request.match_info["version"] != config.version:
            raise web.HTTPNotFound()
        # Always the stable form: whatever fetches it caches it for runs on other ports.
        return web.Response(body=served.index_stable, content_type="text/html", headers=_NO_STORE)

    app = web.Application()
    app.router.add_get("/html/{version}.html", version_html)
    return app
