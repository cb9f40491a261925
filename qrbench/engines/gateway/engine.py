"""The gateway engine: the user's own gateway, timed from outside as its users feel it.

Its stages, all on the QR path (docs/gateway.md):

- request: the start request's round trip, from just before it is sent to its answer;
- qr_wait: from that answer until qrbench holds the QR (nothing to wait for when the
  answer carries it; the polls, or the wait for the gateway's webhook, otherwise);
- qr_decode: qrbench reading it: a PNG decoded, the string checked.

Whatever the gateway does inside (launching Chromium, its auth, its webhook and DB writes)
lies inside these. The profile's stop requests are sent after every session, whatever
happened, so a run leaves no session behind in the gateway.
"""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qrbench.browsers.local import launch_args
from qrbench.config.gateway import Gateway, GatewayRequest, QrSource
from qrbench.config.models import Profile
from qrbench.engines.base import FirstQr, PreparedSession, SessionSetup
from qrbench.engines.gateway import requests
from qrbench.engines.gateway.qr import qr_string
from qrbench.engines.gateway.tracing import TRACEPARENT, SessionTrace, placed, settled_spans
from qrbench.engines.model.auth import uses_remote_auth
from qrbench.engines.wwebjs import options
from qrbench.errors import GatewayFailed, QrTimeout, SessionFailure
from qrbench.records import UNKNOWN, ResourceUsage, Stage
from qrbench.world.replica.urls import DISABLE_LOOPBACK_CHECKS
from qrbench.world.stores.redis import RedisStore

REFERENCE_GATEWAY = Path(__file__).parents[2] / "gateways" / "reference" / "server.js"
NODE_TRACING = Path(__file__).parents[2] / "instrumentation" / "register.js"


def service_values(setup: SessionSetup) -> dict[str, str]:
    """What a gateway profile's templates may name before any session."""
    gateway, profile = gateway_of(setup), setup.profile
    browser = profile.browser
    remote = uses_remote_auth(profile, restoring=setup.restoring)
    store = setup.store
    # As the real library's own engine gives its puppeteer (see DISABLE_LOOPBACK_CHECKS).
    extra_args = [*setup.extra_args, *([DISABLE_LOOPBACK_CHECKS] if setup.replica else [])]
    client_options = options.client_options(
        profile, extra_args, options.remote_path_loopback(profile, setup.to_loopback)
    )
    return {
        "url": gateway.url,
        "port": str(_port(gateway.url)),
        "chromium": browser.executable_path,
        "chromium_args": json.dumps(launch_args(browser, extra_args)),
        # The profile's knobs as the study's SessionManager passes them to `new Client()`.
        "client_options": json.dumps(client_options),
        "auth": "remoteauth" if remote else "localauth",
        "redis_url": store.url if remote and isinstance(store, RedisStore) else "",
        "backup_sync_interval_ms": str(profile.auth.backup_sync_interval_ms),
        "webhook_mode": profile.webhook.mode.value,
        "webhook_url": setup.webhook_url or "",
        "webhook_secret": profile.webhook.secret or "",
        "db_updates": profile.db.updates.value,
        "instances": str(profile.routing.instances if profile.routing.multi_instance else 1),
        "otlp_endpoint": "" if setup.otlp is None else setup.otlp.endpoint,
        "reference_gateway": str(REFERENCE_GATEWAY),
        "node_tracing": str(NODE_TRACING),
    }


def gateway_of(setup: SessionSetup) -> Gateway:
    """The run's gateway (the services put the reference one in a profile naming none)."""
    return gateway_of_profile(setup.profile)


def gateway_of_profile(profile: Profile) -> Gateway:
    gateway = profile.gateway
    assert gateway is not None, "open_services resolves the run's gateway"
    return gateway


def _port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


class GatewayPage:
    """The QR as the gateway handed it over: nothing more of it can be seen from outside."""

    refs_seen = 1

    def on_new_ref(self, callback: Callable[[str], None]) -> None:
        return

    def give_up(self, failure: SessionFailure) -> None:
        return

    async def verify(self) -> None:
        # qr_decode already read and checked it, on the QR path.
        return

    async def ready(self, timeout_ms: int) -> float:
        raise SessionFailure("a gateway timed from outside cannot be logged in by qrbench")

    async def fetch_chats(self, offset: int, limit: int) -> list[dict[str, Any]]:
        raise SessionFailure("a gateway timed from outside cannot be logged in by qrbench")


class GatewayEngine:
    auth = UNKNOWN
    web_cache = UNKNOWN

    def __init__(self, session: PreparedSession) -> None:
        self._session = session
        self._gateway = gateway_of(session.setup)
        # Computed once for the run by the services: nothing of qrbench's own runs on the
        # session's clock before the start request.
        run_values = session.setup.gateway_values
        assert run_values is not None, "open_services fills them for engine gateway"
        self._values = {**run_values, "session": session.session_id}
        # Registered before the start request: the gateway may post the QR before it answers.
        inbox = session.setup.qr_inbox
        self._qr_event = None if inbox is None else inbox.expect(session.session_id)
        self._refusals_before = 0 if inbox is None else inbox.refusals_so_far()
        # The start, still unanswered when its QR came by webhook first.
        self._start: asyncio.Task[bytes] | None = None
        otlp = session.setup.otlp
        self._trace = (
            SessionTrace.new() if otlp is not None and self._gateway.traces.enabled else None
        )
        if otlp is not None and self._trace is not None:
            otlp.expect(self._trace.trace_id)

    async def show_qr(self) -> FirstQr:
        try:
            return await self._show_qr()
        except BaseException:
            # Failed or cancelled: a start still unanswered is not waited for.
            if self._start is not None:
                self._start.cancel()
            raise

    async def _show_qr(self) -> FirstQr:
        timer, gateway = self._session.timer, self._gateway
        with timer.stage(Stage.REQUEST, critical=True):
            for request in gateway.before:
                await self._send(request)
            self._start = asyncio.create_task(self._send(gateway.start))
            answer = await self._start_or_qr_event()
        with timer.stage(Stage.QR_WAIT, critical=True):
            found = await self._qr(answer)
        with timer.stage(Stage.QR_DECODE, critical=True):
            text = qr_string(found, gateway.qr.format, whatsapp_form=gateway.qr.whatsapp_form)
        return FirstQr(text, GatewayPage())

    async def _send(self, request: GatewayRequest) -> bytes:
        """`request`'s answer, after keeping what it saves for the session's later ones."""
        _, answer = await requests.send(
            self._session.setup.http,
            request,
            self._values,
            self._gateway.request_timeout_ms,
            trace_headers=self._trace_headers(),
        )
        self._values |= requests.saved(answer, request)
        return answer

    def _trace_headers(self) -> dict[str, str]:
        return {} if self._trace is None else {TRACEPARENT: self._trace.traceparent}

    async def _start_or_qr_event(self) -> bytes | None:
        """The start's answer; None when the QR came by webhook first, as it does from a
        gateway that answers the start only once its client is up (wwebjs-api, Evolution
        API's create): the user has the QR then, whatever the start does next."""
        assert self._start is not None
        if self._qr_event is None:
            return await self._start
        await asyncio.wait({self._start, self._qr_event}, return_when=asyncio.FIRST_COMPLETED)
        return await self._start if self._start.done() else None

    async def _qr(self, start_answer: bytes | None) -> object:
        """The QR field's value, from the start's answer, from polls or from the webhook."""
        gateway, qr = self._gateway, self._gateway.qr
        if qr.source is QrSource.RESPONSE:
            assert start_answer is not None  # no webhook: the start was awaited
            found = requests.at_path(requests.parse_json(start_answer, gateway.start), qr.field)
            if found is None:
                raise GatewayFailed(
                    f"{requests.named(gateway.start)} answered without a QR at {qr.field!r}: "
                    f"{requests.first_line(start_answer)}"
                )
            return found
        if qr.source is QrSource.WEBHOOK:
            return await self._webhook_qr()
        assert qr.poll is not None  # the profile's validation
        deadline_s = time.monotonic() + gateway.qr_timeout_ms / 1000
        while True:
            http_status, body = await requests.send(
                self._session.setup.http,
                qr.poll,
                self._values,
                gateway.request_timeout_ms,
                also_ok=qr.pending_http,
                trace_headers=self._trace_headers(),
            )
            pending = http_status in qr.pending_http
            document = None if pending else requests.parse_json(body, qr.poll)
            found = None if pending else requests.at_path(document, qr.field)
            if found is not None:
                return found
            status_field = qr.status_field
            status = None if status_field is None else requests.at_path(document, status_field)
            if not pending and status_field is not None and status not in qr.pending:
                raise GatewayFailed(
                    f"{requests.named(qr.poll)} answered {status_field} {status!r} and no QR: "
                    f"{requests.first_line(body)}"
                )
            if time.monotonic() >= deadline_s:
                raise QrTimeout(f"no QR from the gateway within {gateway.qr_timeout_ms} ms")
            # The client's polling interval, a declared parameter of the profile.
            await asyncio.sleep(qr.interval_ms / 1000)

    async def _webhook_qr(self) -> object:
        gateway, qr = self._gateway, self._gateway.qr
        assert self._qr_event is not None, "open_services opens the inbox for source webhook"
        try:
            event = await asyncio.wait_for(self._qr_event, gateway.qr_timeout_ms / 1000)
        except TimeoutError:
            inbox = self._session.setup.qr_inbox
            assert inbox is not None
            raise QrTimeout(
                f"no QR event from the gateway's webhook within {gateway.qr_timeout_ms} ms; "
                "requests qrbench's receiver refused meanwhile: "
                f"{inbox.refusals_since(self._refusals_before)}"
            ) from None
        found = requests.at_path(event, qr.field)
        if found is None:
            raise GatewayFailed(
                f"the gateway's QR event has no QR at {qr.field!r}: "
                f"{requests.first_line(json.dumps(event).encode())}"
            )
        return found

    async def _keep_spans(self) -> None:
        """The gateway's spans for this session, on its clock, once they stopped coming.
        A gateway that has sent none in this run is waited for at its first session only."""
        otlp, trace = self._session.setup.otlp, self._trace
        if otlp is None or trace is None:
            return
        if otlp.received_any or not otlp.waited_in_vain:
            await settled_spans(otlp, trace, self._gateway.traces.wait_ms)
            otlp.waited_in_vain = not otlp.received_any
        session = self._session
        session.spans[:] = placed(
            otlp.spans(trace.trace_id), trace, session.timer, session.timer.stages
        )
        otlp.forget(trace.trace_id)

    async def after_qr(self) -> None:
        return

    async def close(self) -> ResourceUsage | None:
        session, gateway = self._session, self._gateway
        inbox = session.setup.qr_inbox
        if inbox is not None:
            inbox.forget(session.session_id)
        if self._start is not None and not self._start.done():
            # The QR came first; the start's answer still decides what the stops can name.
            try:
                await self._start
            except GatewayFailed as failure:
                session.background_errors.append(session.error(failure, stage="request"))
            except asyncio.CancelledError:
                if not self._start.cancelled():
                    raise
        for stop in gateway.stop:
            try:
                await requests.send(
                    session.setup.http, stop, self._values, gateway.request_timeout_ms
                )
            except GatewayFailed as failure:
                # The session's own outcome stands; a session left in the gateway is worth
                # knowing about.
                session.background_errors.append(session.error(failure, stage="stop"))
        # After the stops: the gateway frees the session's browser while its spans are
        # still on their way to qrbench, rather than holding it for qrbench's bookkeeping.
        await self._keep_spans()
        # The gateway's processes are its own, shared by every session.
        return None
