"""One session: one attempt to show a fresh login QR, timed stage by stage.

Stage order and meaning follow DESIGN.md. Critical stages sit between the user's click
and the QR in hand; time-to-QR is the end of the last of them. Background stages are
timed but never counted in it. Whatever goes wrong becomes a recorded failure.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, assert_never

import aiohttp
from playwright.async_api import BrowserContext, Page, Playwright, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from qrbench.browsers.failures import translate
from qrbench.browsers.local import launch
from qrbench.browsers.processes import ResourceSampler, reap
from qrbench.config.models import (
    AuthStrategy,
    CachePersist,
    CacheType,
    Profile,
    RemoteAuthFor,
    ScenarioCpu,
    ScenarioNetwork,
    WebhookMode,
)
from qrbench.config.models import Browser as BrowserConfig
from qrbench.engines.handler.db import Assignment, GatewayDb
from qrbench.engines.handler.qr import encode_png_data_url, verify_canvas
from qrbench.engines.model import auth, webcache
from qrbench.engines.model.chatsync import sync_chats
from qrbench.engines.model.pagewatch import PageWatcher
from qrbench.errors import (
    AuthTimeout,
    BrowserError,
    NavigationFailed,
    QrRetriesExhausted,
    QrTimeout,
    SessionFailure,
)
from qrbench.measure.timer import SessionTimer, failed_stage_of
from qrbench.records import ResourceUsage, SessionError, SessionResult, Stage, within_deadline
from qrbench.world import emulation
from qrbench.world.faults import Fault
from qrbench.world.replica.server import Replica
from qrbench.world.stores.base import SessionStore
from qrbench.world.webhook import QR_CODE_GENERATED, post_event, qr_code_generated_payload

CLOSE_TIMEOUT_S = 5.0
_BOOTED_JS = """() => (window.Debug !== undefined && window.Debug.VERSION !== undefined)
    || document.querySelector('div[data-ref] canvas') !== null"""


@dataclass(frozen=True)
class SessionSetup:
    """What every session of a run shares: the gateway's process-wide parts."""

    playwright: Playwright
    profile: Profile
    data_path: Path
    target_url: str
    # Harness-only Chromium args, e.g. the replica's host-resolver rules.
    extra_args: list[str]
    to_loopback: Callable[[str], str]
    db: GatewayDb
    http: aiohttp.ClientSession
    store: SessionStore | None = None
    # The store already holds a session for each account (scenario remote_session).
    restoring: bool = False
    webhook_url: str | None = None
    # The scenario's phone scans the QR: wait for the ready state.
    expect_scan: bool = False
    # The scenario's links and CPU, emulated for the page (qrbench.world.emulation).
    network: ScenarioNetwork = field(default_factory=ScenarioNetwork)
    cpu: ScenarioCpu = field(default_factory=ScenarioCpu)
    # The local replica when the profile targets it; it injects the scenario's page faults.
    replica: Replica | None = None


def uses_remote_auth(profile: Profile, *, restoring: bool) -> bool:
    if profile.auth.strategy is AuthStrategy.LOCALAUTH:
        return False
    match profile.auth.remoteauth_for:
        case RemoteAuthFor.ALL:
            return True
        case RemoteAuthFor.RESTORE_ONLY:
            return restoring
        case _:
            assert_never(profile.auth.remoteauth_for)


async def run_session(
    setup: SessionSetup,
    session_id: str,
    *,
    number: int,
    warmup: bool,
    workspace_id: int = 1,
    on_stage_start: Callable[[str], None] | None = None,
    fault: Fault | None = None,
) -> SessionResult:
    """One attempt; `fault` is the scenario's fault for it (the replica is already armed)."""
    session = _Session(setup, session_id, workspace_id, on_stage_start, fault)
    await session.run()
    return session.result(number=number, warmup=warmup)


class _Session:
    def __init__(
        self,
        setup: SessionSetup,
        session_id: str,
        workspace_id: int,
        on_stage_start: Callable[[str], None] | None,
        fault: Fault | None,
    ) -> None:
        self.setup = setup
        self.fault = fault
        self.profile = setup.profile
        self.session_id = session_id
        self.workspace_id = workspace_id
        self.timer = SessionTimer(on_stage_start)
        self.remote = uses_remote_auth(self.profile, restoring=setup.restoring)
        self.assignment: Assignment | None = None
        self.user_data_dir: Path | None = None
        self.context: BrowserContext | None = None
        self.sampler: ResourceSampler | None = None
        self.resources: ResourceUsage | None = None
        self.watcher: PageWatcher | None = None
        self.cache = webcache.ResolvedIndex(webcache.CacheOutcome.NOT_USED, None)
        self.time_to_qr_ms: float | None = None
        self.qr_delivered_ms: float | None = None
        self.time_to_ready_ms: float | None = None
        self.refs_delivered = 0
        self.login_abandoned = False  # qr.max_retries ran out
        self.chats_synced = 0
        self.statements_before = setup.db.statements
        self.error: SessionError | None = None
        self.background_errors: list[SessionError] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.backup_loop: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            page = await self._start_browser()
            await self._show_qr(page)
            await self._after_qr(page)
        except Exception as exc:
            # Anything a session meets (a crashed browser, a hung page, a dead Redis, a bug
            # in a stage) is that session's recorded failure; the run goes on.
            self.error = self._session_error(exc)
        finally:
            await self._finish()

    async def _start_browser(self) -> Page:
        profile, setup = self.profile, self.setup
        with self.timer.stage(Stage.ROUTE, critical=True):
            self.assignment = setup.db.route(self.workspace_id, profile.routing)
        with self.timer.stage(Stage.AUTH_RESTORE, critical=True):
            if self.remote:
                assert setup.store is not None  # the runner opens a store for RemoteAuth
                self.user_data_dir, _ = await auth.restore_remote_auth(
                    setup.store, setup.data_path, self.session_id
                )
            else:
                self.user_data_dir = auth.prepare_local_auth(setup.data_path, self.session_id)
        self.sampler = ResourceSampler(self.user_data_dir)
        self.sampler.start()
        with self.timer.stage(Stage.BROWSER_LAUNCH, critical=True):
            self.context = await launch(
                setup.playwright, profile.browser, self.user_data_dir, setup.extra_args
            )
            page = self.context.pages[0] if self.context.pages else await self.context.new_page()
            self.watcher = PageWatcher(self.timer.now_ms)
            await self.watcher.install(self.context, page)
            with self.timer.harness():
                await emulation.apply(self.context, page, setup.network, setup.cpu)
        if self.remote:
            self.backup_loop = asyncio.create_task(self._backup_sync())
        return page

    async def _show_qr(self, page: Page) -> None:
        profile, setup, watcher = self.profile, self.setup, self.watcher
        assert watcher is not None
        with self.timer.stage(Stage.WEB_VERSION, critical=True):
            self.cache = await webcache.resolve(
                profile.web_version_cache,
                profile.web_version,
                timeout_ms=profile.browser.timeout_ms,
                to_loopback=setup.to_loopback,
            )
            if self.cache.html is not None:
                await webcache.serve_index(page, setup.target_url, self.cache.html)
        with self.timer.stage(Stage.PAGE_LOAD, critical=True):
            if self.fault is Fault.BROWSER_CRASH:
                self.tasks.append(asyncio.create_task(self._crash_browser()))
            response = await _navigate(
                page, setup.target_url, profile.browser.navigation_timeout_ms
            )
        load_end_ms = self.timer.stages[-1].end_ms
        with self.timer.stage(Stage.QR_WAIT, critical=True, start_ms=load_end_ms) as span:
            await _wait_for_web_version(page, profile.browser)
            # One budget from load to the QR: the wait for Debug.VERSION spends from it.
            spent_ms = self.timer.now_ms() - load_end_ms
            shown_ms, data_ref = await watcher.first_qr(
                max(0, round(profile.browser.timeout_ms - spent_ms))
            )
            # A page may draw its QR before `load`; the wait after load is then zero.
            span.end_at(max(shown_ms, load_end_ms))
        if profile.qr.dedupe:
            with self.timer.stage(Stage.QR_DEDUPE, critical=True):
                # A new account has no earlier QR, so its first one passes: what is
                # measured here is the check's cost; its effect shows on rotated refs.
                setup.db.dedupe_allows(self.session_id)
        with self.timer.stage(Stage.QR_ENCODE, critical=True):
            qr_png = encode_png_data_url(data_ref, profile.qr)
        await self._deliver(qr_png)
        with self.timer.stage(Stage.DB_UPDATE, critical=True):
            assert self.assignment is not None
            setup.db.record_qr(self.session_id, profile.db.updates, self.assignment)
        self.time_to_qr_ms = self.timer.critical_end_ms()
        self.refs_delivered = 1
        watcher.on_new_ref = self._on_new_ref
        if _should_persist(profile, self.cache) and response is not None:
            webcache.persist(profile.web_version_cache, profile.web_version, await response.body())

    async def _after_qr(self, page: Page) -> None:
        profile, watcher = self.profile, self.watcher
        assert watcher is not None
        with self.timer.stage(Stage.QR_VERIFY, critical=False):
            await verify_canvas(page)
        if not self.setup.expect_scan:
            return
        try:
            self.time_to_ready_ms = await watcher.ready(profile.browser.timeout_ms)
        except SessionFailure as exc:
            # The QR was shown and delivered; a login that never completes is worth
            # knowing but does not undo that.
            self.background_errors.append(self._session_error(exc, stage="ready"))
            return
        if profile.chat_sync.on_ready:
            await self._background(self._sync_chats(page), Stage.CHAT_SYNC)

    async def _deliver(self, qr_png: str) -> None:
        """Hand the QR to the webhook receiver, waiting for it or not as the profile says."""
        match self.profile.webhook.mode:
            case WebhookMode.OFF:
                return
            case WebhookMode.BLOCKING:
                with self.timer.stage(Stage.WEBHOOK, critical=True):
                    await self._post_qr(qr_png)
                self.qr_delivered_ms = self.timer.now_ms()
            case WebhookMode.BACKGROUND:
                self.tasks.append(asyncio.create_task(self._deliver_in_background(qr_png)))
            case _:
                assert_never(self.profile.webhook.mode)

    async def _deliver_in_background(self, qr_png: str) -> None:
        try:
            with self.timer.stage(Stage.WEBHOOK, critical=False):
                await self._post_qr(qr_png)
        except Exception as exc:
            # An undelivered QR never reaches the user: the session failed.
            if self.error is None:
                self.error = self._session_error(exc)
            return
        self.qr_delivered_ms = self.timer.now_ms()

    async def _post_qr(self, qr_png: str) -> None:
        webhook, url = self.profile.webhook, self.setup.webhook_url
        assert url is not None  # the runner provides a receiver whenever the webhook is on
        payload = qr_code_generated_payload(self.workspace_id, self.session_id, qr_png)
        await post_event(
            self.setup.http, url, webhook.secret, QR_CODE_GENERATED, payload, webhook.timeout_ms
        )

    async def _crash_browser(self) -> None:
        """The scenario's browser_crash: kill this session's Chromium while the page loads."""
        assert self.user_data_dir is not None
        await asyncio.to_thread(reap, [self.user_data_dir])

    def _on_new_ref(self, data_ref: str) -> None:
        """A rotated ref: the gateway's qr event fires again (unless dedupe drops it)."""
        assert self.watcher is not None
        if self.login_abandoned:
            return
        if not self.profile.qr.dedupe or self.setup.db.dedupe_allows(self.session_id):
            self.refs_delivered += 1
            qr_png = encode_png_data_url(data_ref, self.profile.qr)
            if self.profile.webhook.mode is not WebhookMode.OFF:
                self.tasks.append(asyncio.create_task(self._background(self._post_qr(qr_png))))
        max_retries = self.profile.qr.max_retries
        # whatsapp-web.js counts the first QR too; it emits the QR over the limit, then
        # destroys the client: no later ref reaches anyone.
        if max_retries and len(self.watcher.refs) > max_retries:
            self.login_abandoned = True
            self.watcher.give_up(
                QrRetriesExhausted(f"nobody scanned {max_retries} QR(s) (qr.max_retries)")
            )

    async def _sync_chats(self, page: Page) -> None:
        chat_sync, webhook = self.profile.chat_sync, self.profile.webhook
        post_batch = None
        if webhook.mode is not WebhookMode.OFF:

            async def post_batch(chats: list[dict[str, Any]]) -> None:
                assert self.setup.webhook_url is not None
                data = {"session_id": self.session_id, "chats": chats}
                await post_event(
                    self.setup.http,
                    self.setup.webhook_url,
                    webhook.secret,
                    "chats_synced",
                    data,
                    webhook.timeout_ms,
                )

        self.chats_synced = await sync_chats(
            page,
            self.setup.db,
            self.session_id,
            chats=chat_sync.chats,
            batch_size=chat_sync.batch_size,
            post_batch=post_batch,
        )

    async def _backup_sync(self) -> None:
        store, interval_s = self.setup.store, self.profile.auth.backup_sync_interval_ms / 1000
        assert store is not None and self.user_data_dir is not None
        while True:
            await asyncio.sleep(interval_s)
            await self._background(
                auth.backup_remote_auth(store, self.user_data_dir, self.session_id),
                Stage.BACKUP_SYNC,
            )

    async def _background(self, work: Awaitable[object], stage: Stage | None = None) -> None:
        """Work beside the QR path (timed as `stage` if given); its failure is recorded
        without failing the session."""
        try:
            if stage is None:
                await work
            else:
                with self.timer.stage(stage, critical=False):
                    await work
        except Exception as exc:
            self.background_errors.append(self._session_error(exc))

    def _session_error(self, exc: Exception, stage: str | None = None) -> SessionError:
        failure = translate(exc) if isinstance(exc, PlaywrightError) else exc
        return SessionError(
            stage=stage or failed_stage_of(exc) or "setup",
            type=type(failure).__name__,
            message=str(failure) if isinstance(failure, SessionFailure) else repr(failure),
            elapsed_ms=round(self.timer.now_ms(), 1),
        )

    async def _finish(self) -> None:
        if self.backup_loop is not None:
            self.backup_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.backup_loop
        if self.tasks:
            # Background deliveries give up by themselves after webhook.timeout_ms.
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.sampler is not None:
            self.resources = await self.sampler.stop()
        await _close(self.context)
        if self.user_data_dir is not None:
            reap([self.user_data_dir])
        self.statements = self.setup.db.statements - self.statements_before

    def result(self, *, number: int, warmup: bool) -> SessionResult:
        ok = self.error is None and self.time_to_qr_ms is not None
        time_to_qr_ms = round(self.time_to_qr_ms, 1) if ok and self.time_to_qr_ms else None
        return SessionResult(
            number=number,
            session_id=self.session_id,
            warmup=warmup,
            ok=ok,
            time_to_qr_ms=time_to_qr_ms,
            qr_delivered_ms=_rounded(self.qr_delivered_ms) if ok else None,
            time_to_ready_ms=_rounded(self.time_to_ready_ms) if ok else None,
            within_deadline=within_deadline(time_to_qr_ms, self.profile),
            error=self.error,
            stages=sorted(self.timer.stages, key=lambda stage: stage.start_ms),
            resources=self.resources,
            auth="remoteauth" if self.remote else "localauth",
            web_cache=self.cache.outcome.value,
            refs_seen=len(self.watcher.refs) if self.watcher is not None else 0,
            refs_delivered=self.refs_delivered,
            db_statements=self.statements,
            chats_synced=self.chats_synced,
            background_errors=self.background_errors,
        )


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


async def _navigate(page: Page, url: str, timeout_ms: int) -> Response | None:
    # whatsapp-web.js navigates with waitUntil 'load'; page_load ends at that event.
    try:
        return await page.goto(url, wait_until="load", timeout=timeout_ms)
    except PlaywrightTimeout as exc:
        raise NavigationFailed(
            f"no load event within {timeout_ms} ms (browser.navigation_timeout_ms)"
        ) from exc
    except PlaywrightError as exc:
        failure = translate(exc)
        if type(failure) is BrowserError:
            raise NavigationFailed(str(failure)) from exc
        raise failure from exc


async def _wait_for_web_version(page: Page, config: BrowserConfig) -> None:
    """What whatsapp-web.js waits for after load before it injects: `window.Debug.VERSION`.

    A page already showing its QR has booted too: a `target.url` that is not WhatsApp Web
    (DESIGN.md: any page with a QR canvas) need not set it.
    """
    # authTimeoutMs 0 sets no limit of its own; qrbench still stops at the QR's limit.
    limit_ms = config.auth_timeout_ms or config.timeout_ms
    try:
        await page.wait_for_function(_BOOTED_JS, timeout=limit_ms)
    except PlaywrightTimeout as exc:
        if config.auth_timeout_ms:
            raise AuthTimeout(f"no window.Debug.VERSION within {limit_ms} ms") from exc
        # No auth limit of its own: what ran out is the wait for the QR.
        raise QrTimeout(
            f"no QR in the page after {limit_ms} ms (window.Debug.VERSION never appeared)"
        ) from exc


def _should_persist(profile: Profile, resolved: webcache.ResolvedIndex) -> bool:
    cache = profile.web_version_cache
    return (
        cache.type is CacheType.LOCAL
        and cache.persist is CachePersist.AFTER_LOAD
        and resolved.outcome is webcache.CacheOutcome.MISS
    )


async def _close(context: BrowserContext | None) -> None:
    if context is None:
        return
    # A crashed or hung browser may never answer close; the reaper finishes the job.
    with contextlib.suppress(PlaywrightError, TimeoutError):
        await asyncio.wait_for(context.close(), CLOSE_TIMEOUT_S)
