"""The replica's three loopback origins (page, static bundles, version host), its QR socket
and, once the simulated phone has scanned, its chat API.

The page and its bundles answer over TLS at WhatsApp's real hostnames with a certificate
made per run (`tls.py`), so the real whatsapp-web.js reaches its own `WhatsWebURL`
unpatched; the version host stands in for GitHub's raw host and speaks plain HTTP.
"""

import asyncio
import contextlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from aiohttp import WSCloseCode, WSMsgType, web
from yarl import URL

from qrbench.config.models import (
    DEFAULT_WEB_VERSION,
    MAX_REPLICA_PORT,
    OriginNetwork,
    ReplicaPage,
)
from qrbench.errors import ReplicaError
from qrbench.world import pacing
from qrbench.world.faults import Fault
from qrbench.world.loopback import BIND_ADDRESS, LoopbackServer
from qrbench.world.otlp import ReceivedSpan
from qrbench.world.replica import boot, content
from qrbench.world.replica.boot import HelloError
from qrbench.world.replica.pairing import new_ref, qr_matrix
from qrbench.world.replica.tls import kept_certificate, make_certificate
from qrbench.world.replica.urls import (
    STATIC_HOST,
    TLS_HOSTS,
    VERSION_HOST,
    WHATSAPP_HOST,
    ReplicaUrls,
)

_STATIC = Path(__file__).with_name("static")
_APP_JS = _STATIC / "app.js"
# What the page's origin serves besides the index: its two workers' scripts.
_PAGE_SCRIPTS = {
    boot.SERVICE_WORKER_PATH: _STATIC / "serviceworker.js",
    boot.CRYPTO_WORKER_PATH: _STATIC / "crypto-worker.js",
}
# The static host's assets are immutable, as the real host's `rsrc.php` files are: the
# browser keeps them in its disk cache, as it would.
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
# Handlers end as soon as their sockets close, so a long grace period would only hide a bug.
_SHUTDOWN_TIMEOUT_S = 2.0
_NO_STORE = {"Cache-Control": "no-store"}
# How often a stalled bundle looks whether its browser is still there: aiohttp does not
# cancel a handler whose client went away, and nothing else would end the stall.
_STALL_POLL_S = 0.1
REPLICA_FAULTS = frozenset({Fault.HANG, Fault.DROP, Fault.BUNDLE_STALL, Fault.HTTP_500})
"""The faults the replica itself injects; `Replica.arm` takes one of these or None."""
SESSION_PARAM = "qrbench_session"
"""The query parameter that tells the replica which session a page load belongs to."""
SESSION_HEADER = "X-Qrbench-Session"
"""The same, as a request header: for a client (whatsapp-web.js) whose URL is fixed, and
which can set headers on every request its page makes, bundles included."""
MAX_CHATS_PER_PAGE = 500


@dataclass(frozen=True)
class ReplicaConfig:
    version: str = DEFAULT_WEB_VERSION
    index_kb: int = 600
    bundle_kb: int = 4096
    bundles: int = 4
    refs: int = 6
    first_ttl_s: float = 60.0
    next_ttl_s: float = 20.0
    # None: nobody scans. Otherwise the phone scans this long after the first ref was pushed,
    # provided the refs have not run out by then.
    scan_after_s: float | None = None
    chats: int = 5000
    # What the page does after its load event, before its socket opens (boot.py).
    page: ReplicaPage = field(default_factory=ReplicaPage)
    # Paced here because the harness, not Chromium, fetches from the version host. The
    # page and static origins are shaped inside Chromium (qrbench.world.emulation).
    version_host_network: OriginNetwork = pacing.UNSHAPED
    # Where the origins listen: loopback, unless a run lets remote browsers in
    # (--replica-bind); their addresses then name this machine as those browsers reach it.
    bind_address: str = BIND_ADDRESS
    # False for browsers that cannot map the stable names (remote ones): every page then
    # names the static origin by its address, the version host's copy included.
    stable_names: bool = True
    # None: three ephemeral ports and a certificate of the run's own. A port: the origins
    # listen there and on the two ports after it, with the kept certificate, so a browser
    # started earlier with `qrbench serve --replica-port`'s flags reaches every run.
    port: int | None = None

    def __post_init__(self) -> None:
        content.check_version(self.version)
        for name in ("index_kb", "bundle_kb", "bundles", "refs"):
            if getattr(self, name) < 1:
                raise ValueError(f"ReplicaConfig.{name} must be at least 1")
        if self.first_ttl_s <= 0 or self.next_ttl_s <= 0:
            raise ValueError("ReplicaConfig ref lifetimes must be positive")
        if self.scan_after_s is not None and not (
            math.isfinite(self.scan_after_s) and self.scan_after_s >= 0
        ):
            raise ValueError("ReplicaConfig.scan_after_s must be None or a finite delay >= 0")
        if self.chats < 0:
            raise ValueError("ReplicaConfig.chats must not be negative")
        if self.port is not None and not 1 <= self.port <= MAX_REPLICA_PORT:
            raise ValueError(f"ReplicaConfig.port must be 1-{MAX_REPLICA_PORT} (it uses 3 ports)")


@dataclass(frozen=True)
class _Served:
    """Everything the origins answer with, built before they listen."""

    index_stable: bytes
    index_loopback: bytes
    scripts: dict[str, bytes]
    page_scripts: dict[str, bytes]
    assets: dict[str, bytes]


class Replica:
    """The three origins on one background thread with its own asyncio event loop,
    so serving never competes with the harness's event loop for timing."""

    def __init__(self, config: ReplicaConfig = ReplicaConfig()) -> None:
        self.config = config
        self._bundle_bodies: list[bytes] | None = None
        self._server = LoopbackServer(
            "replica", ReplicaError, shutdown_timeout_s=_SHUTDOWN_TIMEOUT_S
        )
        self._chats: set[web.WebSocketResponse] = set()
        # Faults by session, and the sessions whose fault was injected since it was armed:
        # a page whose index a cache answered in the browser never asks for it, so an
        # index 500 never reaches it.
        self._faults: dict[str, Fault | None] = {}
        self._met: set[str] = set()
        # The spans of each session's page work, from its page's hello.
        self._page_spans: dict[str, list[ReceivedSpan]] = {}

    def arm(self, session_id: str, fault: Fault | None) -> None:
        """The fault this session's page loads meet from now on, until armed again."""
        if fault is not None and fault not in REPLICA_FAULTS:
            raise ValueError(f"the replica cannot inject {fault}")
        self._faults[session_id] = fault
        self._met.discard(session_id)

    def disarm(self, session_id: str) -> None:
        self._faults.pop(session_id, None)
        self._met.discard(session_id)
        self._page_spans.pop(session_id, None)

    def page_spans(self, session_id: str) -> list[ReceivedSpan]:
        """What the session's page said its work took, in its first hello (none before)."""
        return list(self._page_spans.get(session_id, []))

    def fault_met(self, session_id: str) -> bool:
        """Whether the session's armed fault reached its page."""
        return session_id in self._met

    @staticmethod
    def session_url(url: str, session_id: str) -> str:
        """`url` marked as this session's, for `arm`."""
        return str(URL(url).update_query({SESSION_PARAM: session_id}))

    def _session_of(self, request: web.Request) -> str | None:
        """The session a request belongs to, by its header or query.

        Both engines set the header on every request of the page, bundles included. A
        client that sets none (a person's browser, `qrbench serve`) is told apart by the
        page's query, or else belongs to the one session armed.
        """
        session_id = request.query.get(SESSION_PARAM) or request.headers.get(SESSION_HEADER)
        if session_id is None and len(self._faults) == 1:
            session_id = next(iter(self._faults))
        return session_id

    def _meets(self, request: web.Request, *faults: Fault) -> Fault | None:
        """Which of `faults` this request meets (marked as met): the request's session's."""
        session_id = self._session_of(request)
        if session_id is None or (fault := self._faults.get(session_id)) not in faults:
            return None
        self._met.add(session_id)
        return fault

    def __enter__(self) -> ReplicaUrls:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def index_html(self, version: str) -> bytes:
        """The index of `version` as served under the stable names (for caches and tests)."""
        return content.build_index(
            version, self.config.index_kb, self.config.bundles, f"https://{STATIC_HOST}"
        )

    def start(self) -> ReplicaUrls:
        """Listen on three ports (ephemeral, or `config.port` and the two after it); blocks
        until all three accept."""
        config = self.config
        scripts = self._scripts()
        page_scripts = {path: _read(file) for path, file in _PAGE_SCRIPTS.items()}
        page = config.page
        assets = {
            name: boot.asset_body(name, page.asset_kb) for name in boot.asset_names(page.assets)
        }
        hosts = list(TLS_HOSTS)
        certificate = make_certificate(hosts) if config.port is None else kept_certificate(hosts)
        addresses = self._server.bind(
            len(TLS_HOSTS), config.bind_address, certificate.server_context, config.port
        )
        loopback = dict(zip(TLS_HOSTS, addresses, strict=True))
        version_port = None if config.port is None else config.port + len(TLS_HOSTS)
        [loopback[VERSION_HOST]] = self._server.bind(1, config.bind_address, None, version_port)
        index_loopback = content.build_index(
            config.version, config.index_kb, config.bundles, f"https://{loopback[STATIC_HOST]}"
        )
        served = _Served(
            index_stable=self.index_html(config.version) if config.stable_names else index_loopback,
            index_loopback=index_loopback,
            scripts=scripts,
            page_scripts=page_scripts,
            assets=assets,
        )
        self._server.serve(
            lambda: [
                self._whatsapp_app(served),
                self._static_app(served),
                _version_app(config, served),
            ]
        )
        return ReplicaUrls.of(loopback, certificate.spki_sha256)

    def stop(self) -> None:
        """Close every socket (listening and WebSocket), cancel ref timers, join the thread."""
        self._server.stop()

    def _scripts(self) -> dict[str, bytes]:
        """Every script the static origin serves, by file name; bundles are built only once."""
        config = self.config
        if self._bundle_bodies is None:
            self._bundle_bodies = content.build_bundles(
                config.version, config.bundle_kb, config.bundles
            )
        app_js = _read(_APP_JS)
        work = json.dumps(boot.page_config(config.page)).encode()
        bodies = [*self._bundle_bodies, app_js.replace(b"/*PAGE_WORK*/null", work)]
        return dict(zip(content.script_names(config.bundles), bodies, strict=True))

    def _whatsapp_app(self, served: _Served) -> web.Application:
        async def index(request: web.Request) -> web.Response:
            if self._meets(request, Fault.HTTP_500):
                # No bootstrap, so no window.Debug.VERSION: the gateway waits in vain.
                return web.Response(status=500, text="500 Internal Server Error", headers=_NO_STORE)
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

        async def chat_page(request: web.Request) -> web.Response:
            offset = _query_count(request, "offset", minimum=0)
            limit = min(_query_count(request, "limit", minimum=1), MAX_CHATS_PER_PAGE)
            end = min(offset + limit, self.config.chats)
            chats = [content.chat(index) for index in range(offset, end)]
            return web.json_response(
                {"total": self.config.chats, "chats": chats}, headers=_NO_STORE
            )

        async def page_script(request: web.Request) -> web.Response:
            return web.Response(
                body=served.page_scripts[request.path],
                content_type="application/javascript",
                headers=_NO_STORE,
            )

        app = web.Application()
        app.router.add_get("/", index)
        for path in served.page_scripts:
            app.router.add_get(path, page_script)
        app.router.add_get("/ws/chat", self._chat)
        app.router.add_get("/api/chats", chat_page)
        app.on_shutdown.append(close_chats)
        return app

    def _static_app(self, served: _Served) -> web.Application:
        first_bundle = content.script_names(self.config.bundles)[0]

        async def bundle(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            body = served.scripts.get(name)
            if body is None:
                raise web.HTTPNotFound()
            if name == first_bundle and self._meets(request, Fault.BUNDLE_STALL):
                return await _stall(request, body)
            return web.Response(body=body, content_type="application/javascript", headers=_NO_STORE)

        async def asset(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            body = served.assets.get(name)
            if body is None:
                raise web.HTTPNotFound()
            return web.Response(
                body=body, content_type=boot.asset_content_type(name), headers=_IMMUTABLE
            )

        app = web.Application()
        app.router.add_get("/bundles/{name}", bundle)
        app.router.add_get(boot.ASSET_PREFIX + "{name}", asset)
        return app

    async def _chat(self, request: web.Request) -> web.WebSocketResponse:
        """Push `refs` refs, each when the previous one expires, then say they ran out;
        a simulated scan ends the rotation instead, see `_pair`."""
        config = self.config
        loop = asyncio.get_running_loop()
        chat = web.WebSocketResponse(timeout=_SHUTDOWN_TIMEOUT_S)
        await chat.prepare(request)
        self._chats.add(chat)
        scan_at: float | None = None
        session_id = self._session_of(request)
        try:
            match fault := self._meets(request, Fault.HANG, Fault.DROP):
                case Fault.HANG:
                    async for _message in chat:
                        pass
                    return chat
                case Fault.DROP:
                    # Cut before the first ref, where WhatsApp's own handshake would run.
                    await chat.close(code=WSCloseCode.INTERNAL_ERROR, message=b"dropped")
                    return chat
                case Fault.BUNDLE_STALL | Fault.HTTP_500 | Fault.BROWSER_CRASH | None:
                    pass
                case _:
                    assert_never(fault)
            try:
                hello = boot.read_hello(await chat.receive_json())
            except (HelloError, TypeError, ValueError) as exc:
                # A page that is not the replica's, or a socket closed before its hello.
                await chat.close(code=WSCloseCode.POLICY_VIOLATION, message=str(exc)[:120].encode())
                return chat
            keys = hello.keys
            if session_id is not None and hello.spans:
                self._page_spans[session_id] = hello.spans
            for number in range(config.refs):
                ref = new_ref()
                qr_string = keys.qr_string(ref)
                await chat.send_json(
                    {
                        "type": "ref",
                        "ref": ref,
                        "qr": qr_string,
                        "matrix": qr_matrix(qr_string),
                    }
                )
                sent_at = loop.time()
                if number == 0 and config.scan_after_s is not None:
                    scan_at = sent_at + config.scan_after_s
                ttl_s = config.first_ttl_s if number == 0 else config.next_ttl_s
                if scan_at is not None and scan_at <= sent_at + ttl_s:
                    await _pair(chat, scan_at - sent_at)
                    return chat
                if not await _stay_open(chat, ttl_s):
                    return chat
            await chat.send_json({"type": "refs-exhausted"})
            await chat.close()
        finally:
            self._chats.discard(chat)
        return chat


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


async def _pair(chat: web.WebSocketResponse, after_s: float) -> None:
    """Say the phone scanned after `after_s`, then keep the socket open as a logged-in
    session's is, until the peer or `Replica.stop` closes it."""
    if await _stay_open(chat, after_s):
        await chat.send_json({"type": "scanned"})
        async for _message in chat:
            pass


def _query_count(request: web.Request, name: str, minimum: int) -> int:
    """The whole number in query parameter `name`; HTTP 400 unless it is at least `minimum`."""
    raw = request.query.get(name, "")
    # int() alone would also accept " 5", "+5", "1_0" and non-ASCII digits.
    if raw.isascii() and raw.isdigit():
        with contextlib.suppress(ValueError):  # beyond int()'s digit limit
            if (value := int(raw)) >= minimum:
                return value
    raise web.HTTPBadRequest(
        text=f"{name} must be a whole number of at least {minimum}", headers=_NO_STORE
    )


async def _stall(request: web.Request, body: bytes) -> web.StreamResponse:
    """Send half of `body`, then nothing more for as long as the browser keeps waiting."""
    response = web.StreamResponse(headers=_NO_STORE)
    response.content_type = "application/javascript"
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(_STALL_POLL_S)
    return response


def _version_app(config: ReplicaConfig, served: _Served) -> web.Application:
    link = config.version_host_network

    async def version_html(request: web.Request) -> web.StreamResponse:
        await pacing.round_trip(link)
        if request.match_info["version"] != config.version:
            return await pacing.send(
                request, link, b"404: Not Found", content_type="text/plain", status=404
            )
        # Always the stable form: whatever fetches it caches it for runs on other ports.
        return await pacing.send(
            request, link, served.index_stable, content_type="text/html", headers=_NO_STORE
        )

    app = web.Application()
    app.router.add_get("/html/{version}.html", version_html)
    return app


def _read(path: Path) -> bytes:
    """A page script's bytes; a missing one is the replica's error."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReplicaError(f"a replica page script is missing: {exc}") from exc
