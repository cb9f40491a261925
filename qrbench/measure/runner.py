"""Many sessions under one profile and scenario: warmup, repetitions, results on disk.

The runner never prints; a `RunListener` hears about progress.
"""

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import aiohttp
from playwright.async_api import Playwright, async_playwright

import qrbench
from qrbench.analysis.summary import RunSummary, summarize_run
from qrbench.browsers.local import check_executable
from qrbench.browsers.processes import reap
from qrbench.config.models import Profile, Scenario, WebhookMode, profile_to_dict
from qrbench.engines.handler.db import GatewayDb
from qrbench.engines.model.auth import remote_session_name
from qrbench.engines.model.session import SessionSetup, uses_remote_auth
from qrbench.errors import ConfigError
from qrbench.measure import environment
from qrbench.measure.attempts import run_attempts
from qrbench.records import SessionResult
from qrbench.results import ResultsFile
from qrbench.world.faults import Fault, probability
from qrbench.world.receiver import Receiver
from qrbench.world.remote_session import build_preloaded_session
from qrbench.world.replica.server import REPLICA_FAULTS, Replica, ReplicaConfig, ReplicaUrls
from qrbench.world.stores import SessionStore, StoreUnavailable, open_store


class RunListener(Protocol):
    """Progress of a run; `label` names the profile (several in a comparison)."""

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None: ...
    def session_started(self, label: str, number: int, warmup: bool) -> None: ...
    def stage_started(self, label: str, number: int, stage: str) -> None: ...
    def session_finished(self, label: str, result: SessionResult) -> None: ...
    def warning(self, message: str) -> None: ...


@dataclass(frozen=True)
class RunPlan:
    profile: Profile
    scenario: Scenario
    runs: int
    warmup: int
    results_path: Path
    keep_profiles: bool = False
    # What progress calls this profile; tells apart A/A comparisons of one profile.
    label: str = ""

    def schedule(self) -> list[bool]:
        """One entry per session, True for a warmup session."""
        return [True] * self.warmup + [False] * self.runs


@dataclass(frozen=True)
class RunOutcome:
    results_path: Path
    sessions: list[SessionResult]
    summary: RunSummary
    data_path: Path | None


async def run(plan: RunPlan, listener: RunListener) -> RunOutcome:
    """Run the plan's sessions one after another; results are on disk after each one.

    On cancellation (Ctrl-C) the finished sessions and their summary are still written,
    and every browser, server and store this run started is stopped before it propagates.
    """
    (outcome,) = await run_interleaved([plan], listener)
    return outcome


async def run_interleaved(plans: list[RunPlan], listener: RunListener) -> list[RunOutcome]:
    """Run several profiles' sessions in turns (A B A B ...), each into its own results file.

    Interleaving spreads drift (a warming machine, a neighbour's load) evenly over the
    profiles instead of loading it onto whichever ran last. The plans share runs and warmup.
    """
    if len({tuple(plan.schedule()) for plan in plans}) != 1:
        raise ValueError("interleaved plans must share runs and warmup")
    for plan in plans:
        check_executable(plan.profile.browser.executable_path)
        _check_faults_reachable(plan.profile, plan.scenario)
    profile_runs = [_ProfileRun(plan, listener) for plan in plans]
    try:
        async with contextlib.AsyncExitStack() as services:
            playwright = await services.enter_async_context(async_playwright())
            for profile_run in profile_runs:
                await profile_run.open(playwright, services)
            schedule = plans[0].schedule()
            listener.run_started(len(schedule) * len(plans), [plan.results_path for plan in plans])
            for number, warmup in enumerate(schedule, start=1):
                for profile_run in profile_runs:
                    await profile_run.session(number, warmup)
    finally:
        outcomes = [profile_run.close() for profile_run in profile_runs]
    return outcomes


class _ProfileRun:
    """One profile's part of a run: its services, sessions and results file."""

    def __init__(self, plan: RunPlan, listener: RunListener) -> None:
        self.plan = plan
        self.label = plan.label or plan.profile.name
        self._listener = listener
        self._run_id = uuid.uuid4().hex[:8]
        self._owns_data_path = plan.profile.auth.data_path is None
        self._data_path = (
            Path(tempfile.mkdtemp(prefix="qrbench-"))
            if self._owns_data_path
            else Path(plan.profile.auth.data_path or "")
        )
        self._data_path.mkdir(parents=True, exist_ok=True)
        self._sessions: list[SessionResult] = []
        self._user_data_dirs: list[Path] = []
        self._results: ResultsFile | None = None
        self._setup: SessionSetup | None = None
        self._preloaded: Path | None = None

    async def open(self, playwright: Playwright, services: contextlib.AsyncExitStack) -> None:
        self._setup, store_description = await _open_services(
            self.plan, playwright, self._data_path, services, self._listener
        )
        header = _header(self.plan, self._run_id, store_description)
        self._results = ResultsFile(self.plan.results_path, header)
        self._preloaded = await _preload(self._setup, self.plan.scenario, self._data_path)

    async def session(self, number: int, warmup: bool) -> None:
        setup, results, listener, label = self._setup, self._results, self._listener, self.label
        assert setup is not None and results is not None  # open() came first
        session_id = f"{self._run_id}-{number}"
        self._user_data_dirs += [
            self._data_path / f"session-{session_id}",
            self._data_path / remote_session_name(session_id),
        ]
        setup.db.create_account(number, session_id)
        if self._preloaded is not None and setup.store is not None:
            await _store_quietly(setup.store.save(remote_session_name(session_id), self._preloaded))
        listener.session_started(label, number, warmup)
        result = await run_attempts(
            setup,
            session_id,
            number=number,
            warmup=warmup,
            workspace_id=number,
            scenario_faults=self.plan.scenario.faults,
            on_stage_start=lambda stage: listener.stage_started(label, number, stage),
        )
        if setup.store is not None:
            await _store_quietly(setup.store.delete(remote_session_name(session_id)))
        self._sessions.append(result)
        results.add_session(result)
        listener.session_finished(label, result)

    def close(self) -> RunOutcome:
        """Write the summary and clean up; safe after a failure or cancellation."""
        plan = self.plan
        summary = summarize_run(self._sessions, plan.profile.target.deadline_s * 1000)
        if self._results is not None and self._sessions:
            self._results.set_summary(summary)
        reap(self._user_data_dirs)
        if not plan.keep_profiles:
            _remove_profiles(self._data_path, self._user_data_dirs, whole=self._owns_data_path)
        return RunOutcome(
            results_path=plan.results_path,
            sessions=self._sessions,
            summary=summary,
            data_path=self._data_path if plan.keep_profiles else None,
        )


async def _open_services(
    plan: RunPlan,
    playwright: Playwright,
    data_path: Path,
    services: contextlib.AsyncExitStack,
    listener: RunListener,
) -> tuple[SessionSetup, str | None]:
    """Start what the gateway's process holds for all its sessions; `services` stops them."""
    profile, scenario = plan.profile, plan.scenario
    urls: ReplicaUrls | None = None
    replica: Replica | None = None
    if profile.target.url is None:
        replica = Replica(_replica_config(profile, scenario))
        urls = replica.start()
        services.callback(replica.stop)
    webhook_url = profile.webhook.url
    if profile.webhook.mode is not WebhookMode.OFF and webhook_url is None:
        receiver = Receiver(
            profile.webhook.secret,
            scenario.webhook.processing_ms,
            network=scenario.network.webhook,
        )
        webhook_url = receiver.start()
        services.callback(receiver.stop)
    store: SessionStore | None = None
    store_description: str | None = None
    if uses_remote_auth(profile, restoring=scenario.remote_session.present):
        opened = await services.enter_async_context(
            open_store(profile.auth.store, workdir=data_path)
        )
        store, store_description = opened.store, opened.description
        if opened.warning is not None:
            listener.warning(opened.warning)
    http = await services.enter_async_context(aiohttp.ClientSession())
    db = GatewayDb(data_path / "gateway.db")
    services.callback(db.close)
    setup = SessionSetup(
        playwright=playwright,
        profile=profile,
        data_path=data_path,
        target_url=urls.whatsapp if urls else str(profile.target.url),
        extra_args=_replica_args(urls),
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
    )
    return setup, store_description


async def _preload(setup: SessionSetup, scenario: Scenario, data_path: Path) -> Path | None:
    """The scenario's existing remote session, when a RemoteAuth session will look for it."""
    if not scenario.remote_session.present or setup.store is None:
        return None
    return await build_preloaded_session(
        setup.playwright,
        setup.profile.browser,
        setup.target_url,
        setup.extra_args,
        data_path,
        scenario.remote_session.size_mb,
    )


async def _store_quietly(work: Awaitable[None]) -> None:
    # Harness bookkeeping around a session: a store that is down shows up as the
    # session's own failure in auth_restore, where the gateway would meet it.
    with contextlib.suppress(StoreUnavailable):
        await work


def _header(plan: RunPlan, run_id: str, store_description: str | None) -> dict[str, object]:
    return {
        "qrbench_version": qrbench.__version__,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "plan": {"runs": plan.runs, "warmup": plan.warmup},
        "profile": profile_to_dict(plan.profile),
        "scenario": profile_to_dict(plan.scenario),
        "environment": environment.describe(plan.profile.browser.executable_path),
        "auth_store": store_description,
    }


def _replica_config(profile: Profile, scenario: Scenario) -> ReplicaConfig:
    return ReplicaConfig(
        version=profile.web_version,
        index_kb=scenario.replica.index_kb,
        bundle_kb=scenario.replica.bundle_kb,
        refs=scenario.qr.refs,
        first_ttl_s=scenario.qr.first_ttl_s,
        next_ttl_s=scenario.qr.next_ttl_s,
        scan_after_s=None if scenario.scan_after_ms is None else scenario.scan_after_ms / 1000,
        version_host_network=scenario.network.version_host,
    )


def _check_faults_reachable(profile: Profile, scenario: Scenario) -> None:
    """Page faults are the replica's to inject; a profile with its own target.url has none."""
    if profile.target.url is None:
        return
    page_faults = [
        f.value for f in Fault if f in REPLICA_FAULTS and probability(scenario.faults, f)
    ]
    if page_faults:
        raise ConfigError(
            f"scenario {scenario.name} injects {', '.join(page_faults)}, which only the "
            f"local replica can; profile {profile.name} sets target.url"
        )


def _replica_args(urls: ReplicaUrls | None) -> list[str]:
    # Chromium reaches the replica under stable names, so a cached index HTML from an
    # earlier run (other ports) still points at the right origins.
    return [f"--host-resolver-rules={urls.host_resolver_rules()}"] if urls else []


def _unchanged(url: str) -> str:
    return url


def _remove_profiles(data_path: Path, user_data_dirs: list[Path], *, whole: bool) -> None:
    for path in [data_path] if whole else user_data_dirs:
        shutil.rmtree(path, ignore_errors=True)
