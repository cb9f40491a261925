"""Profiles (the gateway configuration a team controls) and scenarios (the world it runs in).

Frozen pydantic models; `qrbench.config.loader` reads them from YAML with located errors.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qrbench.config.gateway import Gateway
from qrbench.config.strict import StrictModel, is_url

CHROMIUM_ENV = "QRBENCH_CHROMIUM"
"""Overrides `browser.executable_path`: where Chromium lives is machine-specific, so it
belongs in the environment, not in a profile the whole team shares."""

DEFAULT_WEB_VERSION = "2.3000.1017054665"


# --- models -----------------------------------------------------------------------------


class EngineKind(StrEnum):
    MODEL = "model"  # qrbench's own Python model of a whatsapp-web.js client
    WWEBJS = "whatsapp-web.js"  # the real library, driven from Node
    GATEWAY = "gateway"  # the user's own gateway, timed from outside over HTTP


class World(StrEnum):
    """What the sessions' browser reaches (docs/live.md)."""

    REPLICA = "replica"  # qrbench's local WhatsApp Web, at the real names, on loopback
    LIVE = "live"  # the real https://web.whatsapp.com/ over the internet


class AuthStrategy(StrEnum):
    LOCALAUTH = "localauth"
    REMOTEAUTH = "remoteauth"


class RemoteAuthFor(StrEnum):
    ALL = "all"  # every session goes through the remote store
    RESTORE_ONLY = "restore_only"  # the study's fix: new accounts use LocalAuth


class StoreBackend(StrEnum):
    AUTO = "auto"  # Redis when one can be had, else SQLite (with a warning)
    REDIS = "redis"
    SQLITE = "sqlite"


class WebhookMode(StrEnum):
    OFF = "off"
    BLOCKING = "blocking"  # the QR waits for the receiver's answer
    BACKGROUND = "background"  # fire-and-forget


class DbUpdates(StrEnum):
    COMBINED = "combined"  # one UPDATE
    SPLIT = "split"  # status, then instance assignment: two transactions


class CacheType(StrEnum):
    NONE = "none"
    LOCAL = "local"
    REMOTE = "remote"


class BrowserProviderKind(StrEnum):
    LOCAL = "local"  # Debian Chromium launched on this machine
    PLAYWRIGHT = "playwright"  # a Playwright browser server's ws:// endpoint
    CDP = "cdp"  # a Chromium's DevTools endpoint (Browserless, --remote-debugging-port)


SINGLE_PROCESS = "--single-process"

# The schemes each remote provider's endpoints may use.
_ENDPOINT_SCHEMES = {
    BrowserProviderKind.PLAYWRIGHT: ("ws", "wss"),
    BrowserProviderKind.CDP: ("ws", "wss", "http", "https"),
}


class CachePersist(StrEnum):
    NEVER = "never"
    AFTER_LOAD = "after_load"


class Target(StrictModel):
    url: str | None = None  # None: the local replica
    deadline_s: float = Field(default=10.0, gt=0)


class Store(StrictModel):
    backend: StoreBackend = StoreBackend.AUTO
    # None: QRBENCH_REDIS_URL, else a private redis-server qrbench starts for the run.
    url: str | None = None


class Auth(StrictModel):
    strategy: AuthStrategy = AuthStrategy.LOCALAUTH
    data_path: str | None = None  # None: a temporary directory qrbench creates
    remoteauth_for: RemoteAuthFor = RemoteAuthFor.ALL
    backup_sync_interval_ms: int = Field(default=60000, gt=0)
    store: Store = Field(default_factory=Store)


# The replica's first port: it and the two after it must be ports.
MAX_REPLICA_PORT = 65533


class Browser(StrictModel):
    executable_path: str = "/usr/bin/chromium"
    headless: bool = True
    timeout_ms: int = Field(default=30000, gt=0)
    protocol_timeout_ms: int = Field(default=30000, gt=0)
    # page.goto's limit on reaching the index page's `load` event (puppeteer's default).
    navigation_timeout_ms: int = Field(default=30000, gt=0)
    # whatsapp-web.js's authTimeoutMs: how long to wait for `window.Debug.VERSION` after
    # load. 0 is its default, which its inject() turns into 30 s (see `auth_limit_ms`).
    auth_timeout_ms: int = Field(default=0, ge=0)
    args: list[str] = Field(default_factory=list)
    user_agent: str | None = None
    # Where sessions' browsers come from (docs/browsers.md); remote ones take `endpoints`,
    # used round-robin, one per session.
    provider: BrowserProviderKind = BrowserProviderKind.LOCAL
    endpoints: list[str] = Field(default_factory=list, validate_default=True)
    # local only: keep this many browsers launched; each session gets a fresh context.
    pool: int | None = Field(default=None, ge=1)
    # The replica listens at this port and the two after it, with a certificate kept
    # between runs, and sessions open WhatsApp's real names: for browsers started before
    # the run with `qrbench serve --replica-port`'s flags (docs/browsers.md).
    replica_port: int | None = Field(default=None, ge=1, le=MAX_REPLICA_PORT)

    @field_validator("endpoints")
    @classmethod
    def _endpoints_fit_the_provider(cls, endpoints: list[str], info: ValidationInfo) -> list[str]:
        provider = info.data.get("provider")
        if provider is None:  # provider itself was invalid; that error is the one to report
            return endpoints
        if provider is BrowserProviderKind.LOCAL:
            if endpoints:
                raise ValueError("only for provider playwright or cdp, not local")
            return endpoints
        if not endpoints:
            raise ValueError(f"required when provider is {provider} (a list of URLs)")
        schemes = _ENDPOINT_SCHEMES[provider]
        for endpoint in endpoints:
            if not is_url(endpoint, schemes):
                wanted = " or ".join(f"{scheme}://" for scheme in schemes)
                raise ValueError(f"{endpoint!r} is not a {wanted} URL (provider {provider})")
        return endpoints

    @field_validator("pool")
    @classmethod
    def _pool_is_local(cls, pool: int | None, info: ValidationInfo) -> int | None:
        provider = info.data.get("provider")
        if pool is None:
            return pool
        if provider not in (None, BrowserProviderKind.LOCAL):
            raise ValueError(f"only for provider local (a {provider} browser is not ours to keep)")
        if SINGLE_PROCESS in info.data.get("args", ()):
            # Measured: such a Chromium fails to open a second page and exits when its page
            # closes, so it can neither be shared nor outlive a session.
            raise ValueError(f"a pooled Chromium cannot run with {SINGLE_PROCESS} in browser.args")
        return pool


LIBRARY_AUTH_TIMEOUT_MS = 30000
"""What whatsapp-web.js 1.34 waits for `window.Debug.VERSION` when authTimeoutMs is 0."""


def auth_limit_ms(browser: Browser) -> int:
    """How long the client waits for `window.Debug.VERSION` after load."""
    return browser.auth_timeout_ms or LIBRARY_AUTH_TIMEOUT_MS


class WebVersionCache(StrictModel):
    type: CacheType = CacheType.NONE
    path: str = ".wwebjs_cache"
    # validate_default so that a missing remote_path is checked, not silently None.
    remote_path: str | None = Field(default=None, validate_default=True)
    strict: bool = False
    persist: CachePersist = CachePersist.NEVER

    @field_validator("remote_path")
    @classmethod
    def _required_for_remote(cls, remote_path: str | None, info: ValidationInfo) -> str | None:
        if remote_path is None and info.data.get("type") is CacheType.REMOTE:
            raise ValueError("required when type is remote")
        return remote_path


class QrOptions(StrictModel):
    error_correction: Literal["L", "M", "Q", "H"] = "M"  # node-qrcode's default
    width: int | None = Field(default=None, gt=0)
    margin: int = Field(default=4, ge=0)
    # The study's check: drop a QR event when one was generated < 300 s ago for the session.
    dedupe: bool = False
    # whatsapp-web.js's qrMaxRetries: after this many refreshed QRs nobody scanned, the
    # client gives up on the login. 0: never.
    max_retries: int = Field(default=0, ge=0)


class Webhook(StrictModel):
    mode: WebhookMode = WebhookMode.OFF
    url: str | None = None  # None: qrbench's own receiver
    # None: a random secret per run, known only to the gateway and qrbench's own receiver.
    secret: str | None = None
    timeout_ms: int = Field(default=10000, gt=0)

    @model_validator(mode="after")
    def _secret_for_a_foreign_receiver(self) -> Webhook:
        # Another receiver checks signatures under its own key: a random one fails them all.
        if self.url is not None and self.secret is None:
            raise ValueError("webhook.url needs webhook.secret, the key that receiver checks")
        return self


class Db(StrictModel):
    updates: DbUpdates = DbUpdates.COMBINED


class Routing(StrictModel):
    multi_instance: bool = False
    instances: int = Field(default=1, ge=1)


class ChatSync(StrictModel):
    on_ready: bool = False
    chats: int = Field(default=500, ge=0)
    batch_size: int = Field(default=50, gt=0)


class Retry(StrictModel):
    # The service's own retry: a failed attempt is torn down and the account's client
    # initialised again, up to this many attempts in all (1: no retry).
    attempts: int = Field(default=1, ge=1, le=10)


class Gate(StrictModel):
    """Thresholds for `qrbench gate`; its command-line options override each one."""

    target_s: float | None = Field(default=None, gt=0)  # None: the profile's target.deadline_s
    # The time-to-QR percentile held to the target, over the successful sessions.
    percentile: float = Field(default=95, gt=0, le=100)
    # Sessions that showed a verified QR (whenever it came), in % of the measured ones.
    min_success_percent: float = Field(default=98, ge=0, le=100)
    # How much slower than the baseline (ratio of medians) a significant slowdown may be.
    max_regression_percent: float = Field(default=10, ge=0)


class Profile(StrictModel):
    name: str  # the file stem, set by the loader
    description: str = ""
    # Who drives the browser to the QR; `--engine` overrides it (docs/engines.md).
    engine: EngineKind = EngineKind.MODEL
    # `--world` overrides it; the model engine runs on the replica only.
    world: World = World.REPLICA
    target: Target = Field(default_factory=Target)
    auth: Auth = Field(default_factory=Auth)
    browser: Browser = Field(default_factory=Browser)
    web_version: str = Field(default=DEFAULT_WEB_VERSION, pattern=r"^\d+\.\d+\.\d+$")
    web_version_cache: WebVersionCache = Field(default_factory=WebVersionCache)
    qr: QrOptions = Field(default_factory=QrOptions)
    webhook: Webhook = Field(default_factory=Webhook)
    db: Db = Field(default_factory=Db)
    routing: Routing = Field(default_factory=Routing)
    chat_sync: ChatSync = Field(default_factory=ChatSync)
    retry: Retry = Field(default_factory=Retry)
    gate: Gate = Field(default_factory=Gate)
    # The user's gateway, for `engine: gateway` (docs/gateway.md).
    gateway: Gateway | None = None


class ReplicaPage(StrictModel):
    """What the replica's page does after its load event, before its socket opens, besides
    making and keeping its keys (docs/replica.md)."""

    # Files fetched from the static host into Cache Storage. The real index references 68
    # besides its scripts: 48 webp, 8 css, 6 wasm, 6 svg (2.3000.1048032155, in the npm
    # package @wppconnect/wa-version 1.5.4908).
    assets: int = Field(default=68, ge=0, le=1000)
    # No public figure gives their sizes: 16 KB each is declared, about 1.1 MB in all.
    asset_kb: int = Field(default=16, gt=0, le=4096)


class Replica(StrictModel):
    index_kb: int = Field(default=600, gt=0)
    bundle_kb: int = Field(default=4096, gt=0)
    page: ReplicaPage = Field(default_factory=ReplicaPage)


class RemoteSession(StrictModel):
    """A session already in the RemoteAuth store (stale or real) when the user clicks."""

    present: bool = False
    size_mb: float = Field(default=5.0, ge=0)


class ScenarioWebhook(StrictModel):
    processing_ms: int = Field(default=0, ge=0)  # what the receiver spends on each request


class ScenarioQr(StrictModel):
    refs: int = Field(default=6, ge=1)
    first_ttl_s: float = Field(default=60.0, gt=0)
    next_ttl_s: float = Field(default=20.0, gt=0)


class OriginNetwork(StrictModel):
    """The link between the gateway and one origin."""

    # Added to every request's round trip, from request sent to response headers received
    # (CDP's `latency`); connection setup adds no round trips of its own.
    latency_ms: int = Field(default=0, ge=0)
    # Kilobits per second (1 kbps = 125 bytes/s); None: as fast as loopback carries them.
    download_kbps: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    upload_kbps: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class ScenarioNetwork(StrictModel):
    """Per origin, as the gateway sees it. `whatsapp` also covers a custom `target.url`."""

    whatsapp: OriginNetwork = Field(default_factory=OriginNetwork)
    static: OriginNetwork = Field(default_factory=OriginNetwork)
    version_host: OriginNetwork = Field(default_factory=OriginNetwork)
    webhook: OriginNetwork = Field(default_factory=OriginNetwork)
    # The RemoteAuth store (Redis), reached through a relay that applies it.
    store: OriginNetwork = Field(default_factory=OriginNetwork)


class ScenarioCpu(StrictModel):
    # How many times slower the page's main thread runs than this machine's.
    slowdown: float = Field(default=1.0, ge=1, allow_inf_nan=False)


class Faults(StrictModel):
    """Per-attempt probabilities of each fault; at most one fault strikes an attempt."""

    # The same seed strikes the same sessions and attempts with the same faults, in any
    # profile: a comparison meets one fault pattern.
    seed: int = 0
    hang: float = Field(default=0.0, ge=0, le=1)  # the socket is accepted, no ref ever comes
    drop: float = Field(default=0.0, ge=0, le=1)  # the socket is cut mid-handshake
    bundle_stall: float = Field(default=0.0, ge=0, le=1)  # a JS bundle stops streaming
    http_500: float = Field(default=0.0, ge=0, le=1)  # the index answers 500
    browser_crash: float = Field(default=0.0, ge=0, le=1)  # Chromium is killed mid-load

    @model_validator(mode="after")
    def _at_most_certain(self) -> Faults:
        total = self.hang + self.drop + self.bundle_stall + self.http_500 + self.browser_crash
        if total > 1:
            raise ValueError(f"the fault probabilities add up to {total:g}, more than 1")
        return self


class Scenario(StrictModel):
    name: str  # the file stem, set by the loader
    description: str = ""
    replica: Replica = Field(default_factory=Replica)
    network: ScenarioNetwork = Field(default_factory=ScenarioNetwork)
    cpu: ScenarioCpu = Field(default_factory=ScenarioCpu)
    remote_session: RemoteSession = Field(default_factory=RemoteSession)
    webhook: ScenarioWebhook = Field(default_factory=ScenarioWebhook)
    qr: ScenarioQr = Field(default_factory=ScenarioQr)
    faults: Faults = Field(default_factory=Faults)
    # None: nobody scans; else the phone scans the QR this long after it was first shown.
    scan_after_ms: int | None = Field(default=None, gt=0)


REDACTED = "<redacted>"


def profile_to_dict(model: BaseModel) -> dict[str, Any]:
    """A JSON-safe dict of a profile or scenario, secrets redacted, for display and results."""
    data = model.model_dump(mode="json")
    if isinstance(model, Profile):
        data["webhook"]["secret"] = REDACTED
    return data
