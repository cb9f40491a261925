"""One session: one attempt to show a fresh login QR, timed stage by stage.

Stage order and meaning follow DESIGN.md. Critical stages sit between the user's click
and the QR in hand; time-to-QR is the end of the last of them. Background stages are
timed but never counted in it. Whatever goes wrong becomes a recorded failure.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from playwright.async_api import BrowserContext, Page, Playwright, Response
from playwright.async_api import Error as PlaywrightError

from qrbench.errors import BrowserError, NavigationFailed, SessionFailure
from qrbench.processes import ResourceSampler, ResourceUsage, reap
from qrbench.profile import CachePersist, CacheType, Profile
from qrbench.stages import auth, browser, webcache
from qrbench.stages.qr import QrWatcher, encode_png_data_url, verify_canvas
from qrbench.timer import SessionTimer, StageTiming

CLOSE_TIMEOUT_S = 5.0


class Stage(StrEnum):
    AUTH_RESTORE = "auth_restore"
    BROWSER_LAUNCH = "browser_launch"
    WEB_VERSION = "web_version"
    PAGE_LOAD = "page_load"
    QR_WAIT = "qr_wait"
    QR_ENCODE = "qr_encode"
    QR_VERIFY = "qr_verify"


@dataclass(frozen=True)
class SessionError:
    stage: str
    type: str
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class SessionResult:
    number: int
    session_id: str
    warmup: bool
    ok: bool
    time_to_qr_ms: float | None
    within_deadline: bool
    error: SessionError | None
    stages: list[StageTiming]
    resources: ResourceUsage | None
    web_cache: str
    refs_seen: int


@dataclass(frozen=True)
class SessionSetup:
    """What every session of a run shares."""

    playwright: Playwright
    profile: Profile
    data_path: Path
    target_url: str
    # Harness-only Chromium args, e.g. the replica's host-resolver rules.
    extra_args: list[str]
    to_loopback: Callable[[str], str]


async def run_session(
    setup: SessionSetup,
    session_id: str,
    *,
    number: int,
    warmup: bool,
    on_stage_start: Callable[[str], None] | None = None,
) -> SessionResult:
    profile = setup.profile
    timer = SessionTimer(on_stage_start)
    user_data_dir: Path | None = None
    context: BrowserContext | None = None
    sampler: ResourceSampler | None = None
    watcher: QrWatcher | None = None
    resolved = webcache.ResolvedIndex(webcache.CacheOutcome.NOT_USED, None)
    time_to_qr_ms: float | None = None
    error: SessionError | None = None
    try:
        with timer.stage(Stage.AUTH_RESTORE, critical=True):
            user_data_dir = auth.prepare_local_auth(setup.data_path, session_id)
        sampler = ResourceSampler(user_data_dir)
        sampler.start()
        with timer.stage(Stage.BROWSER_LAUNCH, critical=True):
            context = await browser.launch(
                setup.playwright, profile.browser, user_data_dir, setup.extra_args
            )
            page = context.pages[0] if context.pages else await context.new_page()
            watcher = QrWatcher(timer.now_ms)
            await watcher.install(context, page)
        with timer.stage(Stage.WEB_VERSION, critical=True):
            resolved = await webcache.resolve(
                profile.web_version_cache,
                profile.web_version,
                timeout_ms=profile.browser.timeout_ms,
                to_loopback=setup.to_loopback,
            )
            if resolved.html is not None:
                await webcache.serve_index(page, setup.target_url, resolved.html)
        with timer.stage(Stage.PAGE_LOAD, critical=True):
            response = await _navigate(page, setup.target_url)
        load_end_ms = timer.stages[-1].end_ms
        with timer.stage(Stage.QR_WAIT, critical=True, start_ms=load_end_ms) as span:
            shown_ms, data_ref = await watcher.first_qr(profile.browser.timeout_ms)
            # A page may draw its QR before `load`; the wait after load is then zero.
            span.end_at(max(shown_ms, load_end_ms))
        with timer.stage(Stage.QR_ENCODE, critical=True):
            encode_png_data_url(data_ref, profile.qr)
        time_to_qr_ms = timer.critical_end_ms()
        if _should_persist(profile, resolved) and response is not None:
            webcache.persist(profile.web_version_cache, profile.web_version, await response.body())
        with timer.stage(Stage.QR_VERIFY, critical=False):
            await verify_canvas(page)
    except Exception as exc:
        # Anything a session meets (a crashed browser, a hung page, a bug in a stage) is
        # that session's recorded failure; the run goes on.
        failure = browser.translate(exc) if isinstance(exc, PlaywrightError) else exc
        error = SessionError(
            stage=timer.failed_stage or "setup",
            type=type(failure).__name__,
            message=str(failure) if isinstance(failure, SessionFailure) else repr(failure),
            elapsed_ms=round(timer.now_ms(), 1),
        )
    finally:
        resources = await sampler.stop() if sampler is not None else None
        await _close(context)
        if user_data_dir is not None:
            reap([user_data_dir])
    ok = error is None
    return SessionResult(
        number=number,
        session_id=session_id,
        warmup=warmup,
        ok=ok,
        time_to_qr_ms=round(time_to_qr_ms, 1) if ok and time_to_qr_ms is not None else None,
        within_deadline=ok
        and time_to_qr_ms is not None
        and time_to_qr_ms <= profile.target.deadline_s * 1000,
        error=error,
        stages=timer.stages,
        resources=resources,
        web_cache=resolved.outcome.value,
        refs_seen=len(watcher.refs) if watcher is not None else 0,
    )


async def _navigate(page: Page, url: str) -> Response | None:
    # whatsapp-web.js navigates with waitUntil 'load'; page_load ends at that event.
    try:
        return await page.goto(url, wait_until="load")
    except PlaywrightError as exc:
        failure = browser.translate(exc)
        if type(failure) is BrowserError:
            raise NavigationFailed(str(failure)) from exc
        raise failure from exc


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
