"""What a run starts before its first session: the world and the gateway's shared parts.

The replica (or target.url), the webhook receiver, the RemoteAuth store, the gateway's DB
and HTTP client, and the session the scenario preloads into the store. An exit stack
stops them all, in reverse order, however the run ends. A signal during a synchronous
start is delivered at the next await, which may be a Redis command that swallows it:
`stop_if_asked` after the store and at the end makes it count anyway.
"""

import asyncio
import contextlib
import dataclasses
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from qrbench.browsers.base import BrowserProvider
from qrbench.cancellation import stop_if_asked
from qrbench.config.gateway import QrSource, reference_gateway
from qrbench.config.models import (
    BrowserProviderKind,
    EngineKind,
    Profile,
    Scenario,
    WebhookMode,
    World,
)
from qrbench.engines.base import SessionSetup
from qrbench.engines.gateway.engine import gateway_of, gateway_of_profile, service_values
from qrbench.engines.gateway.inbox import QrInbox
from qrbench.engines.gateway.process import GatewayProcess, wait_until_ready
from qrbench.engines.handler.db import GatewayDb
from qrbench.engines.model.auth import uses_remote_auth
from qrbench.errors import ConfigError
from qrbench.world.faults import Fault, probability
from qrbench.world.live import LIVE_URL
from qrbench.world.loopback import BIND_ADDRESS
from qrbench.world.otlp import OtlpReceiver
from qrbench.world.receiver import Receiver
from qrbench.world.remote_session import build_preloaded_session
from qrbench.world.replica.server import REPLICA_FAULTS, Replica, ReplicaConfig
from qrbench.world.replica.urls import ReplicaUrls
from qrbench.world.stores import RunStores, SessionStore, StoreUnavailable


@dataclass(frozen=True)
class OpenedServices:
    setup: SessionSetup
    # Where the RemoteAuth store is, for the results file; None without one.
    store_description: str | None
    # The scenario's existing remote session (a zip), when RemoteAuth will look for it.
    preloaded: Path | None
    # qrbench's own webhook receiver, for its refusal counts; None with webhook.url or off.
    receiver: Receiver | None = None

    def webhook_rejections(self) -> dict[str, int]:
        """Requests qrbench's receiver refused so far, by reason; empty without one."""
        return {} if self.receiver is None else self.receiver.rejections


async def open_services(
    profile: Profile,
    scenario: Scenario,
    provider: BrowserProvider,
    data_path: Path,
    services: contextlib.AsyncExitStack,
    stores: RunStores,
    warn: Callable[[str], None],
    replica_bind: str = BIND_ADDRESS,
    receiver_bind: str = BIND_ADDRESS,
) -> OpenedServices:
    """Start what the gateway's process holds for all its sessions; `services` stops them.

    The RemoteAuth store comes from `stores`, which the run's profiles share. The replica
    listens on `replica_bind` and the webhook receiver on `receiver_bind` (loopback
    unless the run was told otherwise).
    """
    profile = _with_gateway_port(_with_webhook_secret(profile))
    urls: ReplicaUrls | None = None
    replica: Replica | None = None
    if _on_replica(profile):
        replica = Replica(_replica_config(profile, scenario, replica_bind))
        urls = replica.start()
        services.callback(replica.stop)
    webhook_url = profile.webhook.url
    receiver: Receiver | None = None
    qr_inbox = _qr_inbox(profile)
    if webhook_url is None and (
        profile.webhook.mode is not WebhookMode.OFF or qr_inbox is not None
    ):
        assert profile.webhook.secret is not None  # _with_webhook_secret set one
        receiver = Receiver(
            profile.webhook.secret,
            scenario.webhook.processing_ms,
            network=scenario.network.webhook,
            signed=qr_inbox is None or gateway_of_profile(profile).qr.webhook.signed,
            on_event=None if qr_inbox is None else qr_inbox.deliver,
            on_refusal=None if qr_inbox is None else qr_inbox.refused,
            bind_address=receiver_bind,
        )
        webhook_url = receiver.start()
        services.callback(receiver.stop)
    store: SessionStore | None = None
    store_description: str | None = None
    if uses_remote_auth(profile, restoring=scenario.remote_session.present):
        opened, first = await stores.open(
            profile.auth.store, workdir=data_path, link=scenario.network.store
        )
        store, store_description = opened.store, opened.description
        if first and opened.warning is not None:
            warn(opened.warning)
        stop_if_asked()
    otlp: OtlpReceiver | None = None
    if profile.engine is EngineKind.GATEWAY:
        traces = gateway_of_profile(profile).traces
        otlp = OtlpReceiver(receiver_bind, port=traces.port)
        otlp.start()
        services.callback(otlp.stop)
    http = await services.enter_async_context(aiohttp.ClientSession())
    db = GatewayDb(data_path / "gateway.db")
    services.callback(db.close)
    setup = SessionSetup(
        provider=provider,
        profile=profile,
        data_path=data_path,
        target_url=_page_url(urls, profile),
        extra_args=_replica_args(urls, profile),
        to_loopback=urls.to_loopback if urls else _unchanged,
        db=db,
        http=http,
        store=store,
        restoring=scenario.remote_session.present,
        webhook_url=webhook_url,
        expect_scan=urls is not None and scenario.scan_after_ms is not None,
        network=scenario.network,
        cpu=scenario.cpu,
        replica=replica,
        qr_inbox=qr_inbox,
        otlp=otlp,
    )
    preloaded = await _preload(setup, scenario, data_path)
    if profile.engine is EngineKind.GATEWAY:
        values = service_values(setup)
        setup = dataclasses.replace(setup, gateway_values=values)
        await _open_gateway(setup, values, data_path, services)
    stop_if_asked()
    return OpenedServices(setup, store_description, preloaded, receiver)


async def _open_gateway(
    setup: SessionSetup,
    values: Mapping[str, str],
    data_path: Path,
    services: contextlib.AsyncExitStack,
) -> None:
    """The user's gateway, started when its profile says how, answering before any session."""
    gateway = gateway_of(setup)
    process = None
    if gateway.command:
        process = await services.enter_async_context(
            GatewayProcess(gateway, values, data_path / "gateway.log")
        )
    await wait_until_ready(gateway, values, setup.http, process)


def _qr_inbox(profile: Profile) -> QrInbox | None:
    """Where the receiver hands a gateway's QR events over, when its QR comes by webhook."""
    if profile.engine is not EngineKind.GATEWAY:
        return None
    qr = gateway_of_profile(profile).qr
    if qr.source is not QrSource.WEBHOOK:
        return None
    return QrInbox(qr.webhook, asyncio.get_running_loop())


def _with_gateway_port(profile: Profile) -> Profile:
    """`profile` with its gateway (the reference one when it names none), on a free
    loopback port when qrbench starts it at port 0, so profiles compared side by side
    never fight over one."""
    if profile.engine is not EngineKind.GATEWAY:
        return profile
    gateway = profile.gateway or reference_gateway()
    parts = urlsplit(gateway.url)
    if not gateway.command or parts.port != 0 or parts.hostname is None:
        return profile.model_copy(update={"gateway": gateway})
    with socket.create_server((parts.hostname, 0)) as probe:
        port = probe.getsockname()[1]
    url = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))
    return profile.model_copy(update={"gateway": gateway.model_copy(update={"url": url})})


def _with_webhook_secret(profile: Profile) -> Profile:
    """`profile` with its own webhook secret, or one drawn for this run: no fixed default
    key that anyone who read qrbench's source could sign with."""
    if profile.webhook.secret is not None:
        return profile
    webhook = profile.webhook.model_copy(update={"secret": secrets.token_hex(32)})
    return profile.model_copy(update={"webhook": webhook})


async def _preload(setup: SessionSetup, scenario: Scenario, data_path: Path) -> Path | None:
    if not scenario.remote_session.present or setup.store is None:
        return None
    return await build_preloaded_session(
        setup.provider,
        setup.profile.browser,
        setup.target_url,
        setup.extra_args,
        data_path,
        scenario.remote_session.size_mb,
    )


async def store_quietly(work: Awaitable[None]) -> None:
    # Harness bookkeeping around a session: a store that is down shows up as the
    # session's own failure in auth_restore, where the gateway would meet it.
    with contextlib.suppress(StoreUnavailable):
        await work


def _replica_config(profile: Profile, scenario: Scenario, bind_address: str) -> ReplicaConfig:
    return ReplicaConfig(
        version=profile.web_version,
        index_kb=scenario.replica.index_kb,
        bundle_kb=scenario.replica.bundle_kb,
        page=scenario.replica.page,
        refs=scenario.qr.refs,
        first_ttl_s=scenario.qr.first_ttl_s,
        next_ttl_s=scenario.qr.next_ttl_s,
        scan_after_s=None if scenario.scan_after_ms is None else scenario.scan_after_ms / 1000,
        version_host_network=scenario.network.version_host,
        bind_address=bind_address,
        stable_names=_maps_host_names(profile),
        port=profile.browser.replica_port,
    )


def check_faults_reachable(profile: Profile, scenario: Scenario) -> None:
    """Page faults are the replica's to inject; a profile with its own target.url, or in
    the live world, has none."""
    if _on_replica(profile):
        return
    page_faults = [
        f.value for f in Fault if f in REPLICA_FAULTS and probability(scenario.faults, f)
    ]
    if page_faults:
        elsewhere = (
            "sets target.url" if profile.world is World.REPLICA else "runs in the live world"
        )
        raise ConfigError(
            f"scenario {scenario.name} injects {', '.join(page_faults)}, which only the "
            f"local replica can; profile {profile.name} {elsewhere}"
        )


def _on_replica(profile: Profile) -> bool:
    return profile.world is World.REPLICA and profile.target.url is None


def _maps_host_names(profile: Profile) -> bool:
    # A browser qrbench launches takes --host-resolver-rules; a remote one was launched by
    # someone else: with a replica port, with `qrbench serve --replica-port`'s flags, else
    # with none (it is sent to the replica's addresses instead).
    browser = profile.browser
    return browser.provider is BrowserProviderKind.LOCAL or browser.replica_port is not None


def _page_url(urls: ReplicaUrls | None, profile: Profile) -> str:
    if profile.world is World.LIVE:
        return LIVE_URL
    if urls is None:
        return str(profile.target.url)
    return urls.whatsapp if _maps_host_names(profile) else urls.index_url_loopback


def _replica_args(urls: ReplicaUrls | None, profile: Profile) -> list[str]:
    # Chromium reaches the replica under stable names, so a cached index HTML from an
    # earlier run (other ports) still points at the right origins.
    if urls is None or profile.browser.provider is not BrowserProviderKind.LOCAL:
        return []
    return urls.chromium_args()


def _unchanged(url: str) -> str:
    return url
