"""One attempt of a session: the gateway's handler around an engine.

The gateway routes the account, lets its engine show the first QR, then runs the stages
every engine shares: dedupe, encode, webhook and db_update on the critical path, then
qr_verify, the ready state and chat_sync beside it. Time-to-QR is the end of the last
critical stage; background stages never count in it. Whatever goes wrong becomes a
recorded failure (docs/architecture.md).
"""

import asyncio
from typing import Any, assert_never

from qrbench.config.models import EngineKind, WebhookMode
from qrbench.engines.base import Engine, EngineFactory, PreparedSession, QrPage
from qrbench.engines.gateway.tracing import SessionTrace, placed
from qrbench.engines.handler.db import Assignment
from qrbench.engines.handler.qr import encode_png_data_url
from qrbench.errors import QrRetriesExhausted, SessionFailure
from qrbench.records import (
    ResourceUsage,
    SessionError,
    SessionResult,
    SpanTiming,
    Stage,
    within_deadline,
)
from qrbench.world.webhook import QR_CODE_GENERATED, post_event, qr_code_generated_payload


async def run_session(
    session: PreparedSession,
    engine_factory: EngineFactory,
    *,
    number: int,
    warmup: bool,
    workspace_id: int,
) -> SessionResult:
    """One attempt with a fresh engine; never raises for what goes wrong in the session."""
    attempt = _Attempt(session, engine_factory(session), workspace_id)
    await attempt.run()
    return attempt.result(number=number, warmup=warmup)


class _Attempt:
    def __init__(self, session: PreparedSession, engine: Engine, workspace_id: int) -> None:
        self.session = session
        self.engine = engine
        self.profile = session.profile
        self.db = session.setup.db
        self.timer = session.timer
        self.workspace_id = workspace_id
        self.assignment: Assignment | None = None
        self.page: QrPage | None = None
        self.time_to_qr_ms: float | None = None
        self.qr_delivered_ms: float | None = None
        self.time_to_ready_ms: float | None = None
        self.refs_delivered = 0
        self.login_abandoned = False  # qr.max_retries ran out
        self.chats_synced = 0
        self.error: SessionError | None = None
        self.resources: ResourceUsage | None = None
        self.tasks: list[asyncio.Task[None]] = []
        # The gateway DB counts per session; an attempt's share is what it adds. Counting is
        # qrbench's bookkeeping, not the gateway's work: off the session's clock.
        with self.timer.harness():
            self.statements_before = self.db.statements(session.session_id)

    async def run(self) -> None:
        try:
            if self.profile.engine is EngineKind.GATEWAY:
                await self._time_black_box()
                return
            await self._show_qr()
            await self._after_qr()
        except Exception as exc:
            # Anything a session meets (a crashed browser, a hung page, a dead Redis, a bug
            # in a stage) is that session's recorded failure; the run goes on.
            self.error = self.session.error(exc)
        finally:
            await self._finish()

    async def _time_black_box(self) -> None:
        # The gateway under test routes, encodes, delivers and writes on its own: qrbench
        # only times it, and its engine's stages end when qrbench holds the checked QR.
        first = await self.engine.show_qr()
        self.page = first.page
        self.time_to_qr_ms = self.timer.critical_end_ms()
        self.refs_delivered = 1

    async def _show_qr(self) -> None:
        profile, db, timer, session_id = self.profile, self.db, self.timer, self.session.session_id
        with timer.stage(Stage.ROUTE, critical=True):
            self.assignment = db.route(session_id, self.workspace_id, profile.routing)
        first = await self.engine.show_qr()
        self.page = first.page
        if profile.qr.dedupe:
            with timer.stage(Stage.QR_DEDUPE, critical=True):
                # A new account has no earlier QR, so its first one passes: what is
                # measured here is the check's cost; its effect shows on rotated refs.
                db.dedupe_allows(session_id)
        with timer.stage(Stage.QR_ENCODE, critical=True):
            qr_png = encode_png_data_url(first.data_ref, profile.qr)
        await self._deliver(qr_png)
        with timer.stage(Stage.DB_UPDATE, critical=True):
            db.record_qr(session_id, profile.db.updates, self.assignment)
        self.time_to_qr_ms = timer.critical_end_ms()
        self.refs_delivered = 1
        first.page.on_new_ref(self._on_new_ref)
        await self.engine.after_qr()

    async def _after_qr(self) -> None:
        page, profile = self.page, self.profile
        assert page is not None
        with self.timer.stage(Stage.QR_VERIFY, critical=False):
            await page.verify()
        if not self.session.setup.expect_scan:
            return
        try:
            self.time_to_ready_ms = await page.ready(profile.browser.timeout_ms)
        except SessionFailure as exc:
            # The QR was shown and delivered; a login that never completes is worth
            # knowing but does not undo that.
            self.session.background_errors.append(self.session.error(exc, stage="ready"))
            return
        if profile.chat_sync.on_ready:
            await self.session.background(self._sync_chats(page), Stage.CHAT_SYNC)

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
                self.error = self.session.error(exc)
            return
        self.qr_delivered_ms = self.timer.now_ms()

    async def _post_qr(self, qr_png: str) -> None:
        payload = qr_code_generated_payload(self.workspace_id, self.session.session_id, qr_png)
        await self._post(QR_CODE_GENERATED, payload)

    async def _post(self, event: str, data: dict[str, Any]) -> None:
        webhook, setup = self.profile.webhook, self.session.setup
        assert setup.webhook_url is not None  # the runner starts a receiver for a webhook
        assert webhook.secret is not None  # the runner draws one when the profile has none
        await post_event(
            setup.http, setup.webhook_url, webhook.secret, event, data, webhook.timeout_ms
        )

    def _on_new_ref(self, data_ref: str) -> None:
        """A rotated ref: the gateway's qr event fires again (unless dedupe drops it)."""
        page, profile, session_id = self.page, self.profile, self.session.session_id
        assert page is not None
        if self.login_abandoned:
            return
        if not profile.qr.dedupe or self.db.dedupe_allows(session_id):
            self.refs_delivered += 1
            qr_png = encode_png_data_url(data_ref, profile.qr)
            if profile.webhook.mode is not WebhookMode.OFF:
                delivery = self.session.background(self._post_qr(qr_png))
                self.tasks.append(asyncio.create_task(delivery))
        max_retries = profile.qr.max_retries
        # whatsapp-web.js counts the first QR too; it emits the QR over the limit, then
        # destroys the client: no later ref reaches anyone.
        if max_retries and page.refs_seen > max_retries:
            self.login_abandoned = True
            page.give_up(QrRetriesExhausted(f"nobody scanned {max_retries} QR(s) (qr.max_retries)"))

    async def _sync_chats(self, page: QrPage) -> None:
        chat_sync, session_id = self.profile.chat_sync, self.session.session_id
        while self.chats_synced < chat_sync.chats:
            limit = min(chat_sync.batch_size, chat_sync.chats - self.chats_synced)
            batch = await page.fetch_chats(self.chats_synced, limit)
            if not batch:
                break
            self.db.upsert_chats(session_id, batch)
            if self.profile.webhook.mode is not WebhookMode.OFF:
                await self._post("chats_synced", {"session_id": session_id, "chats": batch})
            self.chats_synced += len(batch)

    async def _finish(self) -> None:
        if self.tasks:
            # Background deliveries give up by themselves after webhook.timeout_ms.
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.resources = await self.engine.close()
        spans = self.session.spans
        spans[:] = sorted([*spans, *_page_spans(self.session)], key=lambda span: span.start_ms)

    def result(self, *, number: int, warmup: bool) -> SessionResult:
        ok = self.error is None and self.time_to_qr_ms is not None
        time_to_qr_ms = round(self.time_to_qr_ms, 1) if ok and self.time_to_qr_ms else None
        return SessionResult(
            number=number,
            session_id=self.session.session_id,
            warmup=warmup,
            ok=ok,
            time_to_qr_ms=time_to_qr_ms,
            qr_delivered_ms=_rounded(self.qr_delivered_ms) if ok else None,
            time_to_ready_ms=_rounded(self.time_to_ready_ms) if ok else None,
            within_deadline=within_deadline(time_to_qr_ms, self.profile),
            error=self.error,
            stages=sorted(self.timer.stages, key=lambda stage: stage.start_ms),
            resources=self.resources,
            auth=self.engine.auth,
            web_cache=self.engine.web_cache,
            refs_seen=self.page.refs_seen if self.page is not None else 0,
            refs_delivered=self.refs_delivered,
            db_statements=self.db.statements(self.session.session_id) - self.statements_before,
            chats_synced=self.chats_synced,
            background_errors=self.session.background_errors,
            spans=self.session.spans,
        )


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _page_spans(session: PreparedSession) -> list[SpanTiming]:
    """The replica page's work (its hello's spans) on the session's clock: the browser
    runs on this machine, so its wall clock is the harness's."""
    replica = session.setup.replica
    if replica is None:
        return []
    return placed(
        replica.page_spans(session.session_id),
        SessionTrace.new(),
        session.timer,
        session.timer.stages,
    )
