"""The engine seam: who drives the browser up to "QR string in hand" (docs/architecture.md).

An engine runs its own stages on the session's clock (auth_restore, browser_launch,
web_version, page_load, qr_wait for the model engine) and hands back the first QR with a
handle on the page. The handler stages every engine shares (dedupe, encode, webhook,
db_update, verify, chat sync) run in `qrbench.engines.handler.session` on that handle.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.base import BrowserProvider
from qrbench.browsers.failures import translate
from qrbench.clock import SessionTimer, failed_stage_of
from qrbench.config.models import Profile, ScenarioCpu, ScenarioNetwork
from qrbench.engines.gateway.inbox import QrInbox
from qrbench.engines.handler.db import GatewayDb
from qrbench.errors import SessionFailure
from qrbench.records import ResourceUsage, SessionError, SpanTiming, Stage
from qrbench.world.faults import Fault
from qrbench.world.otlp import OtlpReceiver
from qrbench.world.replica.server import Replica
from qrbench.world.stores.base import SessionStore


@dataclass(frozen=True)
class SessionSetup:
    """What every session of a run shares: the gateway's process-wide parts and its world."""

    provider: BrowserProvider
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
    # engine gateway: what its templates name, the same for every session of the run.
    gateway_values: Mapping[str, str] | None = None
    # engine gateway with its QR by webhook: where qrbench's receiver hands the events over.
    qr_inbox: QrInbox | None = None
    # engine gateway: qrbench's OTLP endpoint, where the gateway's spans arrive.
    otlp: OtlpReceiver | None = None


@dataclass(frozen=True)
class PreparedSession:
    """One attempt of one session, ready for an engine."""

    setup: SessionSetup
    session_id: str
    timer: SessionTimer
    # The scenario's fault for this attempt; the replica is already armed with it.
    fault: Fault | None
    # Failures beside the QR path (a backup, a late delivery): recorded, not fatal.
    background_errors: list[SessionError] = field(default_factory=list)
    # The gateway's spans for this session, as an engine that reads them found them.
    spans: list[SpanTiming] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        return self.setup.profile

    @property
    def page_url(self) -> str:
        """The page this session opens: the replica tells sessions apart by the query."""
        if self.setup.replica is None:
            return self.setup.target_url
        return self.setup.replica.session_url(self.setup.target_url, self.session_id)

    @property
    def replica_origin(self) -> str | None:
        """The page's origin when it is the replica's, for Chromium to allow it loopback.

        A page answered by interception (a web-version cache hit) has no address, so
        Chromium's Local Network Access checks take it for a public page and block its
        requests to the replica's loopback hosts. The real hosts are public and never meet
        the check; on the replica the page is allowed them, as a person allowing the prompt
        would be. None off the replica."""
        if self.setup.replica is None:
            return None
        parts = urlsplit(self.page_url)
        return f"{parts.scheme}://{parts.netloc}"

    def error(self, exc: BaseException, stage: str | None = None) -> SessionError:
        """`exc` as the session's record: the stage it escaped from, in qrbench's terms."""
        failure = translate(exc) if isinstance(exc, PlaywrightError) else exc
        return SessionError(
            stage=stage or failed_stage_of(exc) or "setup",
            type=type(failure).__name__,
            message=str(failure) if isinstance(failure, SessionFailure) else repr(failure),
            elapsed_ms=round(self.timer.now_ms(), 1),
        )

    async def background(self, work: Awaitable[object], stage: Stage | None = None) -> None:
        """Work beside the QR path (timed as `stage` if given); its failure is recorded
        without failing the session."""
        try:
            if stage is None:
                await work
            else:
                with self.timer.stage(stage, critical=False):
                    await work
        except Exception as exc:
            self.background_errors.append(self.error(exc))


class QrPage(Protocol):
    """An engine's handle on a page that has shown its first QR."""

    @property
    def refs_seen(self) -> int: ...

    def on_new_ref(self, callback: Callable[[str], None]) -> None:
        """Call `callback` with each later ref the page shows (refs rotate)."""
        ...

    def give_up(self, failure: SessionFailure) -> None:
        """The client abandoned the login (qr.max_retries): stop waiting for `ready`."""
        ...

    async def verify(self) -> None:
        """Check the QR the page draws is the one handed out (QrMismatch if not)."""
        ...

    async def ready(self, timeout_ms: int) -> float:
        """When the phone's scan turned the page ready, in session milliseconds."""
        ...

    async def fetch_chats(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """A page of the logged-in account's chats, read through the page."""
        ...


@dataclass(frozen=True)
class FirstQr:
    data_ref: str
    page: QrPage


class Engine(Protocol):
    """Drives one attempt's browser to its first QR; `close` is safe after any failure."""

    # What the engine did, for the session's record ("localauth", "hit", ...).
    auth: str
    web_cache: str

    async def show_qr(self) -> FirstQr: ...

    async def after_qr(self) -> None:
        """The engine's own work once the QR is in hand (off the critical path)."""
        ...

    async def close(self) -> ResourceUsage | None: ...


EngineFactory = Callable[[PreparedSession], Engine]
