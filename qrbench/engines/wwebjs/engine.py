"""The whatsapp-web.js engine: the real library's login, its stages on the session's clock.

A Node driver per login (driver.js) runs `Client.initialize()` and reports marks on the
clock every process shares. They become the same stages the model engine times:

- auth_restore: the auth strategy's `beforeBrowserInitialized` (LocalAuth makes its dir;
  RemoteAuth asks the store, extracts and unzips);
- browser_launch: from there until the library hands the launched browser to
  `afterBrowserInitialized` (puppeteer's launch, the first page, the user agent);
- web_version: `initWebVersionCache` (a remote cache fetches from the version host);
- page_load: until `page.goto` resolved on `load` (the library's `inject` starts);
- qr_wait: from there to the first `qr` event: the poll for `window.Debug.VERSION`, the
  wait for the socket to leave OPENING, the QR string built from the page's modules.

Node's own start and the library's `require` are not a login's cost (a gateway starts
once for all its accounts), and neither is what qrbench does in the page (the session
header, the scenario's emulation): both are taken off the session's clock.
"""

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qrbench.browsers.processes import ResourceSampler, reap
from qrbench.browsers.remote import RemoteProvider
from qrbench.clock import blame
from qrbench.config.models import Profile, auth_limit_ms
from qrbench.engines.base import FirstQr, PreparedSession
from qrbench.engines.handler.qr import compare_canvas
from qrbench.engines.model.auth import local_session_name, remote_session_name, uses_remote_auth
from qrbench.engines.wwebjs import options
from qrbench.engines.wwebjs.driver import DriverFailed, DriverProcess, Message
from qrbench.engines.wwebjs.install import node_executable
from qrbench.errors import (
    AuthTimeout,
    BrowserCrashed,
    BrowserError,
    BrowserLaunchFailed,
    NavigationFailed,
    ProtocolTimeout,
    QrTimeout,
    SessionFailure,
)
from qrbench.records import ResourceUsage, Stage
from qrbench.world import emulation
from qrbench.world.faults import Fault
from qrbench.world.replica.server import SESSION_HEADER
from qrbench.world.replica.urls import DISABLE_LOOPBACK_CHECKS
from qrbench.world.stores.base import StoreUnavailable
from qrbench.world.stores.redis import RedisStore

# Marks that open a stage (closing the one before), and the marks that only close one.
_OPENS = {
    "auth_start": Stage.AUTH_RESTORE,
    "web_version_start": Stage.WEB_VERSION,
    "web_version_end": Stage.PAGE_LOAD,
    "page_loaded": Stage.QR_WAIT,
}
_FOLLOWS = {Stage.AUTH_RESTORE: Stage.BROWSER_LAUNCH}
_CLOSES = {"auth_end", "browser_ready"}
# The library's own limits end a stage first; qrbench's ends it only if they do not.
_GRACE_MS = 5000


def _seconds(at_ns: object) -> float:
    return int(str(at_ns)) / 1e9


@dataclass
class _OpenStage:
    stage: Stage
    start_ms: float
    deadline_s: float


class WwebjsPage:
    """The library's client once it emitted its first QR."""

    def __init__(self, engine: "WwebjsEngine") -> None:
        self._engine = engine

    @property
    def refs_seen(self) -> int:
        return len(self._engine.qr_strings)

    def on_new_ref(self, callback: Callable[[str], None]) -> None:
        self._engine.on_new_qr = callback

    def give_up(self, failure: SessionFailure) -> None:
        # The library destroys its client by itself after qrMaxRetries: nothing to stop.
        return

    async def verify(self) -> None:
        await compare_canvas(self._engine.canvas)

    async def ready(self, timeout_ms: int) -> float:
        # options.check_profile refuses scenarios that scan before any session runs.
        raise SessionFailure("the replica cannot log the real library in")

    async def fetch_chats(self, offset: int, limit: int) -> list[dict[str, Any]]:
        raise SessionFailure("the replica cannot log the real library in")


class WwebjsEngine:
    def __init__(self, session: PreparedSession) -> None:
        self._session = session
        remote = uses_remote_auth(session.profile, restoring=session.setup.restoring)
        self.auth = "remoteauth" if remote else "localauth"
        name = (
            remote_session_name(session.session_id)
            if remote
            else local_session_name(session.session_id)
        )
        self._user_data_dir = session.setup.data_path / name
        # A DevTools endpoint the library connects to, instead of launching a browser.
        provider = session.setup.provider
        self._endpoint = provider.next_endpoint() if isinstance(provider, RemoteProvider) else None
        self.web_cache = "not_used"
        self.qr_strings: list[str] = []
        self.on_new_qr: Callable[[str], None] | None = None
        self._driver = DriverProcess()
        self._sampler = ResourceSampler(self._user_data_dir)
        self._open: _OpenStage | None = None
        self._listener: asyncio.Task[None] | None = None
        self._screenshots: asyncio.Queue[Message] = asyncio.Queue()
        self._crash: asyncio.Task[None] | None = None

    async def show_qr(self) -> FirstQr:
        timer, profile = self._session.timer, self._session.profile
        self._sampler.start()
        spawned_s = time.monotonic()
        await self._driver.start(
            node_executable(), self._session.setup.data_path, self._user_data_dir
        )
        try:
            await self._expect("loaded", spawned_s + profile.browser.timeout_ms / 1000)
            await self._driver.send(self._config())
            prepared = await self._expect(
                "prepared", time.monotonic() + profile.browser.timeout_ms / 1000
            )
        except BaseException as exc:
            blame(exc, Stage.AUTH_RESTORE)
            raise
        timer.exclude(spawned_s, _seconds(prepared["at_ns"]))
        while True:
            message = await self._next()
            if message["type"] == "qr":
                self._close_open(_seconds(message["at_ns"]))
                self.qr_strings.append(str(message["qr"]))
                self._listener = asyncio.create_task(self._listen())
                return FirstQr(self.qr_strings[0], WwebjsPage(self))

    def _config(self) -> Message:
        session, setup = self._session, self._session.setup
        profile = session.profile
        return {
            "session_id": session.session_id,
            "session_header": SESSION_HEADER,
            "replica_origin": session.replica_origin,
            "auth": {
                "strategy": self.auth,
                "data_path": str(setup.data_path),
                "backup_sync_interval_ms": profile.auth.backup_sync_interval_ms,
                "store_url": self._redis_url(),
            },
            "emulation": {
                "network_rules": emulation.network_rules(setup.network),
                "cpu_throttling_rate": setup.cpu.slowdown,
            },
            "client_options": options.client_options(
                profile,
                [*setup.extra_args, *([DISABLE_LOOPBACK_CHECKS] if session.replica_origin else [])],
                options.remote_path_loopback(profile, setup.to_loopback),
                self._endpoint,
            ),
        }

    def _redis_url(self) -> str | None:
        """Where the driver's RemoteAuth store connects: the run's own Redis."""
        if self.auth != "remoteauth":
            return None
        store = self._session.setup.store
        if not isinstance(store, RedisStore):
            # auth.store.backend auto fell back to SQLite: the library's store is Redis.
            raise StoreUnavailable(
                "the whatsapp-web.js engine keeps RemoteAuth sessions in Redis, and this run "
                "could not start or reach one (see the warning above)"
            )
        return store.url

    async def _expect(self, kind: str, deadline_s: float) -> Message:
        message = await self._receive(deadline_s)
        if message["type"] != kind:
            raise DriverFailed(f"the driver said {message['type']!r} before {kind!r}: {message}")
        return message

    async def _receive(self, deadline_s: float) -> Message:
        try:
            async with asyncio.timeout_at(_loop_time(deadline_s)):
                return await self._driver.receive()
        except TimeoutError:
            raise self._overdue() from None
        except DriverFailed as exc:
            raise self._fail_open(exc) from None

    async def _next(self) -> Message:
        """The next stage mark or QR; stage records as they close; failures raised."""
        profile, timer = self._session.profile, self._session.timer
        deadline_s = (
            self._open.deadline_s
            if self._open
            else time.monotonic() + profile.browser.timeout_ms / 1000
        )
        message = await self._receive(deadline_s)
        kind = message["type"]
        if kind == "mark":
            name = str(message["name"])
            at_s = _seconds(message["at_ns"])
            if name in _OPENS or name in _CLOSES:
                closed = self._close_open(at_s)
                following = _OPENS.get(name) or (_FOLLOWS.get(closed) if closed else None)
                if following is not None:
                    timer.started(following)
                    self._open = _OpenStage(
                        following, timer.at_ms(at_s), at_s + _limit_s(following, profile)
                    )
                    if following is Stage.PAGE_LOAD:
                        self._on_navigation()
        elif kind == "harness":
            timer.exclude(_seconds(message["start_ns"]), _seconds(message["end_ns"]))
        elif kind == "web_cache":
            self.web_cache = str(message["outcome"])
        elif kind in ("failed", "crashed"):
            raise self._failure(message)
        return message

    def _close_open(self, at_s: float) -> Stage | None:
        open_stage, self._open = self._open, None
        if open_stage is None:
            return None
        timer = self._session.timer
        timer.place(
            open_stage.stage, open_stage.start_ms, timer.at_ms(at_s), critical=True, ok=True
        )
        return open_stage.stage

    def _fail_open(self, failure: SessionFailure) -> SessionFailure:
        """Record the open stage as failed now, and blame `failure` on it."""
        open_stage, self._open = self._open, None
        if open_stage is not None:
            timer = self._session.timer
            timer.place(
                open_stage.stage, open_stage.start_ms, timer.now_ms(), critical=True, ok=False
            )
            blame(failure, open_stage.stage)
        return failure

    def _overdue(self) -> SessionFailure:
        profile = self._session.profile
        stage = self._open.stage if self._open else None
        if stage is Stage.PAGE_LOAD:
            failure: SessionFailure = NavigationFailed(
                f"no load event within {profile.browser.navigation_timeout_ms} ms "
                "(browser.navigation_timeout_ms): whatsapp-web.js itself navigates with no "
                "time limit, so qrbench stopped waiting"
            )
        elif stage is Stage.QR_WAIT:
            failure = QrTimeout(
                f"no qr event within {_limit_s(stage, profile) * 1000:.0f} ms of load, beyond "
                "the library's own limits (authTimeoutMs, protocolTimeout)"
            )
        else:
            failure = DriverFailed(f"the driver said nothing for {profile.browser.timeout_ms} ms")
        return self._fail_open(failure)

    def _failure(self, message: Message) -> SessionFailure:
        """The library's rejection of `initialize`, in qrbench's terms."""
        name, text = str(message.get("name")), str(message.get("message"))
        stage = self._open.stage if self._open else None
        failure: SessionFailure
        if text == "auth timeout":
            limit = auth_limit_ms(self._session.profile.browser)
            failure = AuthTimeout(
                f"whatsapp-web.js: auth timeout (no window.Debug.VERSION within {limit} ms)"
            )
        elif self._crash is not None:
            failure = BrowserCrashed(f"whatsapp-web.js: {name}: {text}")
        elif "timed out" in text:
            failure = ProtocolTimeout(f"whatsapp-web.js: {name}: {text}")
        elif stage is Stage.BROWSER_LAUNCH:
            failure = BrowserLaunchFailed(f"whatsapp-web.js: {name}: {text}")
        elif message["type"] == "crashed":
            failure = DriverFailed(f"whatsapp-web.js driver: {name}: {text}")
        else:
            failure = BrowserError(f"whatsapp-web.js: {name}: {text}")
        return self._fail_open(failure)

    def _on_navigation(self) -> None:
        # As in the model engine: the scenario's crash strikes as the page starts loading.
        if self._session.fault is Fault.BROWSER_CRASH:
            self._crash = asyncio.create_task(asyncio.to_thread(reap, [self._user_data_dir]))

    async def _listen(self) -> None:
        """After the first QR: later QRs to the handler, screenshots to `canvas`."""
        with contextlib.suppress(SessionFailure):
            while True:
                message = await self._driver.receive()
                if message["type"] == "qr":
                    self.qr_strings.append(str(message["qr"]))
                    if self.on_new_qr is not None:
                        self.on_new_qr(str(message["qr"]))
                elif message["type"] in ("screenshot", "screenshot_failed"):
                    await self._screenshots.put(message)

    async def canvas(self) -> tuple[bytes, str]:
        """A screenshot of the page's QR canvas, and the QR string the library last emitted."""
        await self._driver.send({"type": "screenshot"})
        limit_s = self._session.profile.browser.protocol_timeout_ms / 1000
        try:
            reply = await asyncio.wait_for(self._screenshots.get(), limit_s)
        except TimeoutError:
            raise ProtocolTimeout(f"no screenshot of the QR canvas within {limit_s:g} s") from None
        if reply["type"] == "screenshot_failed" or not reply.get("png"):
            raise BrowserError(
                f"no QR canvas to screenshot: {reply.get('message', 'none in the page')}"
            )
        return base64.b64decode(str(reply["png"])), self.qr_strings[-1]

    async def after_qr(self) -> None:
        return

    async def close(self) -> ResourceUsage | None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._driver.close()
        if self._crash is not None:
            await asyncio.gather(self._crash, return_exceptions=True)
        resources = await self._sampler.stop()
        if self._endpoint is not None:
            # The browser is on the other side of the endpoint: its processes are not
            # this session's to measure or reap.
            return None
        await asyncio.to_thread(reap, [self._user_data_dir])
        return resources


def _limit_s(stage: Stage, profile: Profile) -> float:
    """How long qrbench lets a stage run before calling it hung."""
    browser = profile.browser
    match stage:
        case Stage.PAGE_LOAD:
            return browser.navigation_timeout_ms / 1000
        case Stage.QR_WAIT:
            return (auth_limit_ms(browser) + browser.protocol_timeout_ms + _GRACE_MS) / 1000
        case _:
            return (browser.timeout_ms + _GRACE_MS) / 1000


def _loop_time(deadline_s: float) -> float:
    """A time.monotonic deadline on the running loop's clock (the same clock on Linux,
    but asyncio does not promise it)."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline_s - time.monotonic())
