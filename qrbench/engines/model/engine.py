"""The model engine: qrbench's own Python model of a whatsapp-web.js client, on Playwright.

It runs the client's stages up to the first QR on the session's clock: auth_restore,
browser_launch, web_version, page_load and qr_wait (docs/architecture.md has the order).
Page events are stamped by the page itself (`PageWatcher`), as whatsapp-web.js does.
"""

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from qrbench.browsers.base import LaunchedBrowser
from qrbench.browsers.failures import translate
from qrbench.config.models import Browser as BrowserConfig
from qrbench.config.models import CachePersist, CacheType, WebVersionCache, auth_limit_ms
from qrbench.engines.base import FirstQr, PreparedSession
from qrbench.engines.handler.qr import verify_canvas
from qrbench.engines.model import auth, webcache
from qrbench.engines.model.pagewatch import PageWatcher
from qrbench.errors import AuthTimeout, BrowserError, NavigationFailed, SessionFailure
from qrbench.records import ResourceUsage, Stage
from qrbench.world import emulation
from qrbench.world.faults import Fault
from qrbench.world.replica.server import SESSION_HEADER

_BOOTED_JS = """() => (window.Debug !== undefined && window.Debug.VERSION !== undefined)
    || document.querySelector('div[data-ref] canvas') !== null"""


class ModelPage:
    """The replica page (or target.url) once it has shown its first QR."""

    def __init__(self, page: Page, watcher: PageWatcher) -> None:
        self._page = page
        self._watcher = watcher

    @property
    def refs_seen(self) -> int:
        return len(self._watcher.refs)

    def on_new_ref(self, callback: Callable[[str], None]) -> None:
        self._watcher.on_new_ref = callback

    def give_up(self, failure: SessionFailure) -> None:
        self._watcher.give_up(failure)

    async def verify(self) -> None:
        await verify_canvas(self._page)

    async def ready(self, timeout_ms: int) -> float:
        return await self._watcher.ready(timeout_ms)

    async def fetch_chats(self, offset: int, limit: int) -> list[dict[str, Any]]:
        # As whatsapp-web.js's getChats() reads WhatsApp Web's store over the DevTools
        # protocol; the replica's page offers WAReplica.fetchChats for that.
        try:
            chats: list[dict[str, Any]] = await self._page.evaluate(
                "([offset, limit]) => window.WAReplica.fetchChats(offset, limit)", [offset, limit]
            )
        except PlaywrightError as exc:
            raise translate(exc) from exc
        return chats


class ModelEngine:
    def __init__(self, session: PreparedSession) -> None:
        self._session = session
        self._remote = auth.uses_remote_auth(session.profile, restoring=session.setup.restoring)
        self.auth = "remoteauth" if self._remote else "localauth"
        self._cache = webcache.ResolvedIndex(webcache.CacheOutcome.NOT_USED, None)
        self._user_data_dir: Path | None = None
        self._browser: LaunchedBrowser | None = None
        self._response: Response | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._backup_loop: asyncio.Task[None] | None = None

    @property
    def web_cache(self) -> str:
        return self._cache.outcome.value

    async def show_qr(self) -> FirstQr:
        page, watcher = await self._start_browser()
        data_ref = await self._load(page, watcher)
        return FirstQr(data_ref, ModelPage(page, watcher))

    async def _start_browser(self) -> tuple[Page, PageWatcher]:
        session, setup, timer = self._session, self._session.setup, self._session.timer
        with timer.stage(Stage.AUTH_RESTORE, critical=True):
            if self._remote:
                assert setup.store is not None  # the runner opens a store for RemoteAuth
                self._user_data_dir, _ = await auth.restore_remote_auth(
                    setup.store, setup.data_path, session.session_id
                )
            else:
                self._user_data_dir = auth.prepare_local_auth(setup.data_path, session.session_id)
        with timer.stage(Stage.BROWSER_LAUNCH, critical=True):
            self._browser = await setup.provider.launch(
                session.profile.browser, self._user_data_dir, setup.extra_args
            )
            context = self._browser.context
            page = context.pages[0] if context.pages else await context.new_page()
            watcher = PageWatcher(timer.now_ms)
            await watcher.install(context, page)
            with timer.harness():
                if session.replica_origin is not None:
                    # Every request of the page names its session, bundles included, so the
                    # replica strikes each with its own fault however many run at once.
                    await context.set_extra_http_headers({SESSION_HEADER: session.session_id})
                    await context.grant_permissions(
                        ["local-network-access"], origin=session.replica_origin
                    )
                await emulation.apply(context, page, setup.network, setup.cpu)
        if self._remote:
            self._backup_loop = asyncio.create_task(self._backup_sync())
        return page, watcher

    async def _load(self, page: Page, watcher: PageWatcher) -> str:
        session, setup, timer = self._session, self._session.setup, self._session.timer
        profile = session.profile
        with timer.stage(Stage.WEB_VERSION, critical=True):
            self._cache = await webcache.resolve(
                profile.web_version_cache,
                profile.web_version,
                timeout_ms=profile.browser.timeout_ms,
                to_loopback=setup.to_loopback,
            )
            if self._cache.html is not None:
                await webcache.serve_index(page, session.page_url, self._cache.html)
        with timer.stage(Stage.PAGE_LOAD, critical=True):
            if session.fault is Fault.BROWSER_CRASH:
                assert self._browser is not None
                self._tasks.append(asyncio.create_task(self._browser.crash()))
            self._response = await _navigate(
                page, session.page_url, profile.browser.navigation_timeout_ms
            )
        load_end_ms = timer.stages[-1].end_ms
        with timer.stage(Stage.QR_WAIT, critical=True, start_ms=load_end_ms) as span:
            await _wait_for_web_version(page, profile.browser)
            # Then whatsapp-web.js waits, in one evaluate, for the socket to leave OPENING:
            # only puppeteer's protocolTimeout bounds that call.
            shown_ms, data_ref = await watcher.first_qr(profile.browser.protocol_timeout_ms)
            # A page may draw its QR before `load`; the wait after load is then zero.
            span.end_at(max(shown_ms, load_end_ms))
        return data_ref

    async def after_qr(self) -> None:
        profile = self._session.profile
        if _should_persist(profile.web_version_cache, self._cache) and self._response is not None:
            webcache.persist(
                profile.web_version_cache, profile.web_version, await self._response.body()
            )

    async def _backup_sync(self) -> None:
        session, store = self._session, self._session.setup.store
        interval_s = session.profile.auth.backup_sync_interval_ms / 1000
        assert store is not None and self._user_data_dir is not None
        while True:
            await asyncio.sleep(interval_s)
            await session.background(
                auth.backup_remote_auth(store, self._user_data_dir, session.session_id),
                Stage.BACKUP_SYNC,
            )

    async def close(self) -> ResourceUsage | None:
        if self._backup_loop is not None:
            self._backup_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._backup_loop
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._browser is not None:
            return await self._browser.close()
        if self._user_data_dir is not None:
            self._session.setup.provider.reap([self._user_data_dir])
        return None


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
    """What whatsapp-web.js waits for after load before it injects: `window.Debug.VERSION`,
    for authTimeoutMs (30 s when the profile leaves it at 0, as the library does).

    A page already showing its QR has booted too: a `target.url` that is not WhatsApp Web
    (any page with a QR canvas, see README) need not set it.
    """
    limit_ms = auth_limit_ms(config)
    try:
        await page.wait_for_function(_BOOTED_JS, timeout=limit_ms)
    except PlaywrightTimeout as exc:
        raise AuthTimeout(f"no window.Debug.VERSION within {limit_ms} ms (authTimeoutMs)") from exc


def _should_persist(cache: WebVersionCache, resolved: webcache.ResolvedIndex) -> bool:
    return (
        cache.type is CacheType.LOCAL
        and cache.persist is CachePersist.AFTER_LOAD
        and resolved.outcome is webcache.CacheOutcome.MISS
    )
