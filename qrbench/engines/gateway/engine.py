"""The gateway engine: the user's own gateway, timed from outside as its users feel it.

Its stages, all on the QR path (docs/gateway.md):

- request: the start request's round trip, from just before it is sent to its answer;
- qr_wait: from that answer until qrbench holds the QR (nothing to wait for when the
  answer carries it; the polls otherwise);
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
from qrbench.config.gateway import Gateway, QrSource
from qrbench.engines.base import FirstQr, PreparedSession, SessionSetup
from qrbench.engines.gateway import requests
from qrbench.engines.gateway.qr import qr_string
from qrbench.engines.model.auth import uses_remote_auth
from qrbench.engines.wwebjs import options
from qrbench.errors import GatewayFailed, QrTimeout, SessionFailure
from qrbench.records import ResourceUsage, Stage
from qrbench.world.stores.redis import RedisStore

# The gateway's own concerns, unseen from outside.
UNKNOWN = "unknown"
REFERENCE_GATEWAY = Path(__file__).parents[2] / "gateways" / "reference" / "server.js"


def service_values(setup: SessionSetup) -> dict[str, str]:
    """What a gateway profile's templates may name before any session."""
    gateway, profile = gateway_of(setup), setup.profile
    browser = profile.browser
    remote = uses_remote_auth(profile, restoring=setup.restoring)
    store = setup.store
    client_options = options.client_options(
        profile, setup.extra_args, options.remote_path_loopback(profile, setup.to_loopback)
    )
    return {
        "url": gateway.url,
        "port": str(_port(gateway.url)),
        "chromium": browser.executable_path,
        "chromium_args": json.dumps(launch_args(browser, setup.extra_args)),
        # The profile's knobs as the study's SessionManager passes them to `new Client()`.
        "client_options": json.dumps(client_options),
        "auth": "remoteauth" if remote else "localauth",
        "redis_url": store.url if remote and isinstance(store, RedisStore) else "",
        "backup_sync_interval_ms": str(profile.auth.backup_sync_interval_ms),
        "webhook_mode": profile.webhook.mode.value,
        "webhook_url": setup.webhook_url or "",
        "webhook_secret": profile.webhook.secret or "",
        "reference_gateway": str(REFERENCE_GATEWAY),
    }


def gateway_of(setup: SessionSetup) -> Gateway:
    """The run's gateway (the services put the reference one in a profile naming none)."""
    gateway = setup.profile.gateway
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

    async def show_qr(self) -> FirstQr:
        timer, gateway, http = self._session.timer, self._gateway, self._session.setup.http
        with timer.stage(Stage.REQUEST, critical=True):
            answer = await requests.send(
                http, gateway.start, self._values, gateway.request_timeout_ms
            )
        with timer.stage(Stage.QR_WAIT, critical=True):
            found = await self._qr(answer)
        with timer.stage(Stage.QR_DECODE, critical=True):
            text = qr_string(found, gateway.qr.format, whatsapp_form=gateway.qr.whatsapp_form)
        return FirstQr(text, GatewayPage())

    async def _qr(self, start_answer: bytes) -> object:
        """The QR field's value, from the start's answer or from polls."""
        gateway, qr = self._gateway, self._gateway.qr
        if qr.source is QrSource.RESPONSE:
            found = requests.at_path(requests.parse_json(start_answer, gateway.start), qr.field)
            if found is None:
                raise GatewayFailed(
                    f"{requests.named(gateway.start)} answered without a QR at {qr.field!r}: "
                    f"{requests.first_line(start_answer)}"
                )
            return found
        assert qr.poll is not None  # the profile's validation
        deadline_s = time.monotonic() + gateway.qr_timeout_ms / 1000
        while True:
            body = await requests.send(
                self._session.setup.http, qr.poll, self._values, gateway.request_timeout_ms
            )
            document = requests.parse_json(body, qr.poll)
            found = requests.at_path(document, qr.field)
            if found is not None:
                return found
            status_field = qr.status_field
            status = None if status_field is None else requests.at_path(document, status_field)
            if status_field is not None and status not in qr.pending:
                raise GatewayFailed(
                    f"{requests.named(qr.poll)} answered {status_field} {status!r} and no QR: "
                    f"{requests.first_line(body)}"
                )
            if time.monotonic() >= deadline_s:
                raise QrTimeout(f"no QR from the gateway within {gateway.qr_timeout_ms} ms")
            # The client's polling interval, a declared parameter of the profile.
            await asyncio.sleep(qr.interval_ms / 1000)

    async def after_qr(self) -> None:
        return

    async def close(self) -> ResourceUsage | None:
        session, gateway = self._session, self._gateway
        for stop in gateway.stop:
            try:
                await requests.send(
                    session.setup.http, stop, self._values, gateway.request_timeout_ms
                )
            except GatewayFailed as failure:
                # The session's own outcome stands; a session left in the gateway is worth
                # knowing about.
                session.background_errors.append(session.error(failure, stage="stop"))
        # The gateway's processes are its own, shared by every session.
        return None
