"""Many sessions under one profile and scenario: warmup, repetitions, results on disk.

The runner never prints; a `RunListener` hears about progress.
"""

import asyncio
import bisect
import contextlib
import dataclasses
import functools
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import qrbench
from qrbench.analysis.sequential import TargetStop
from qrbench.analysis.summary import summarize_run
from qrbench.browsers.base import BrowserProvider
from qrbench.browsers.local import PlaywrightDriver
from qrbench.browsers.providers import provider_for
from qrbench.cancellation import stop_if_asked
from qrbench.config.load import Load
from qrbench.config.models import Browser, EngineKind, profile_to_dict
from qrbench.engines.base import EngineFactory, SessionSetup
from qrbench.engines.model.auth import local_session_name, remote_session_name
from qrbench.engines.registry import describe_engine, engine_for
from qrbench.leftovers import owned_tempdir, sweep
from qrbench.measure import environment
from qrbench.measure.attempts import run_attempts
from qrbench.measure.doctor import preflight
from qrbench.measure.plan import RunListener, RunOutcome, RunPlan
from qrbench.measure.sampling import FixedRuns, Sampling, Tally, TargetSampling
from qrbench.measure.scheduler import (
    ClosedLoop,
    Job,
    OpenLoop,
    Scheduler,
    Sequential,
    Start,
)
from qrbench.measure.services import check_faults_reachable, open_services, store_quietly
from qrbench.records import SessionResult
from qrbench.results import ResultsFile, RunStatus
from qrbench.world.stores import RunStores


def scheduler_for(load: Load) -> Scheduler:
    """The scheduler that starts the measured sessions as `load` says."""
    if load.arrival_rate_per_min is not None:
        return OpenLoop(load.arrival_rate_per_min, load.seed)
    return ClosedLoop(load.concurrency) if load.concurrency > 1 else Sequential()


@dataclass(frozen=True)
class Machinery:
    """Who drives the sessions: the engine, where browsers come from, how sessions start.

    Tests swap in fakes here; a run from the command line uses the defaults. No engine
    means each profile's own (`engine:` in the profile, or `--engine`).
    """

    engine: EngineFactory | None = None
    # Builds the provider a profile's `browser` section asks for, one per profile run,
    # on the run's one Playwright driver.
    provider: Callable[[Browser, PlaywrightDriver], BrowserProvider] = provider_for
    scheduler: Callable[[Load], Scheduler] = scheduler_for


async def run(
    plan: RunPlan,
    listener: RunListener,
    machinery: Machinery = Machinery(),
    sampling: Sampling | None = None,
) -> RunOutcome:
    """Run the plan's sessions as its load says; results are on disk after each one.

    On cancellation (Ctrl-C) the finished sessions and their summary are still written,
    and every browser, server and store this run started is stopped before it propagates.
    """
    (outcome,) = await run_interleaved([plan], listener, machinery, sampling)
    return outcome


async def run_interleaved(
    plans: list[RunPlan],
    listener: RunListener,
    machinery: Machinery = Machinery(),
    sampling: Sampling | None = None,
) -> list[RunOutcome]:
    """Run several profiles' sessions in turns (A B A B ...), each into its own results file.

    Interleaving spreads drift (a warming machine, a neighbour's load) evenly over the
    profiles instead of loading it onto whichever ran last. The plans share runs, warmup
    and load. Warmup sessions run first, one at a time; then the measured sessions start
    as the load says, in the same A B A B order, round by round as `sampling` asks (every
    profile, `runs` rounds, when none is given; at most `runs` when one is).
    """
    if len({(tuple(plan.schedule()), plan.load) for plan in plans}) != 1:
        raise ValueError("interleaved plans must share runs, warmup and load")
    # Each profile its own provider (a pool's browsers carry its own replica's host
    # mapping), all on one driver: `explain`'s variants need one Node process, not nine.
    driver = PlaywrightDriver()
    providers = [machinery.provider(plan.profile.browser, driver) for plan in plans]
    for plan, provider in zip(plans, providers, strict=True):
        # The checks `qrbench doctor` makes, for what this run needs.
        warnings = preflight(plan.profile, plan.scenario, provider, machinery.engine is None)
        for check in warnings:
            listener.warning(f"{check.name.value}: {check.found}: {check.problem}")
        check_faults_reachable(plan.profile, plan.scenario)
    swept = sweep()
    if swept.directories:
        listener.warning(
            f"removed what earlier killed qrbench runs left: {len(swept.directories)} temp "
            f"dirs, {swept.processes} processes"
        )
    profile_runs = [
        _ProfileRun(plan, listener, machinery.engine or engine_for(plan.profile.engine), provider)
        for plan, provider in zip(plans, providers, strict=True)
    ]
    # Anything that ends the run before its last session (a signal, an error) leaves this.
    status = RunStatus.INTERRUPTED
    try:
        async with contextlib.AsyncExitStack() as services:
            for plan, provider in zip(plans, providers, strict=True):
                if _drives_browsers(plan, machinery):
                    await services.enter_async_context(provider)
            stores = RunStores(services)
            for profile_run in profile_runs:
                await profile_run.open(services, stores)
            schedule = plans[0].schedule()
            listener.run_started(len(schedule) * len(plans), [plan.results_path for plan in plans])
            # Every session's start is recorded on this one clock, warmups included.
            origin = time.monotonic()

            warmups = (
                functools.partial(profile_run.session, number, True, origin)
                for number in range(1, plans[0].warmup + 1)
                for profile_run in profile_runs
            )

            def measured() -> Iterator[Job]:
                # Asked lazily, as the scheduler starts sessions: one at a time, a round's
                # answer sees every session of the round before it. A round's sessions
                # share their number, and with it their fault and jitter draws.
                rounds = sampling or FixedRuns(plans[0].runs)
                number = plans[0].warmup
                while labels := rounds.next_round(
                    {
                        profile_run.label: Tally.of(profile_run.sessions)
                        for profile_run in profile_runs
                    }
                ):
                    for notice in rounds.take_notices():
                        listener.warning(notice)
                    number += 1
                    for profile_run in profile_runs:
                        if profile_run.label in labels:
                            yield functools.partial(profile_run.session, number, False, origin)

            await Sequential().run(warmups)
            await machinery.scheduler(plans[0].load).run(measured())
            status = RunStatus.COMPLETE
    finally:
        outcomes = [
            profile_run.close(status, _target_stop(sampling, profile_run.label))
            for profile_run in profile_runs
        ]
    return outcomes


def _target_stop(sampling: Sampling | None, label: str) -> TargetStop | None:
    """How `--runs auto` ended for the profile it judged against its target, if any."""
    if isinstance(sampling, TargetSampling) and sampling.label == label:
        return sampling.outcome()
    return None


def _drives_browsers(plan: RunPlan, machinery: Machinery) -> bool:
    """Whether the plan's sessions need qrbench's own browsers: a gateway launches its
    own, and qrbench's only builds the scenario's existing remote session for it."""
    gateway = machinery.engine is None and plan.profile.engine is EngineKind.GATEWAY
    return not gateway or plan.scenario.remote_session.present


class _ProfileRun:
    """One profile's part of a run: its services, sessions and results file."""

    def __init__(
        self,
        plan: RunPlan,
        listener: RunListener,
        engine: EngineFactory,
        provider: BrowserProvider,
    ) -> None:
        self.plan = plan
        self._engine = engine
        self._provider = provider
        self.label = plan.label or plan.profile.name
        self._listener = listener
        self._run_id = uuid.uuid4().hex[:8]
        self._owns_data_path = plan.profile.auth.data_path is None
        self._data_path = (
            owned_tempdir("qrbench-")
            if self._owns_data_path
            else Path(plan.profile.auth.data_path or "")
        )
        self._data_path.mkdir(parents=True, exist_ok=True)
        self.sessions: list[SessionResult] = []
        self._user_data_dirs: list[Path] = []
        self._results: ResultsFile | None = None
        self._setup: SessionSetup | None = None
        self._preloaded: Path | None = None
        self._webhook_rejections: Callable[[], dict[str, int]] = dict

    async def open(self, services: contextlib.AsyncExitStack, stores: RunStores) -> None:
        plan = self.plan
        opened = await open_services(
            plan.profile,
            plan.scenario,
            self._provider,
            self._data_path,
            services,
            stores,
            self._listener.warning,
            replica_bind=plan.replica_bind,
            receiver_bind=plan.receiver_bind,
        )
        self._setup, self._preloaded = opened.setup, opened.preloaded
        self._webhook_rejections = opened.webhook_rejections
        if opened.setup.otlp is not None:
            self._listener.notice(
                f"{plan.label or plan.profile.name}: the gateway's spans go to "
                f"OTEL_EXPORTER_OTLP_ENDPOINT={opened.setup.otlp.endpoint}"
            )
        header = _header(plan, self._run_id, opened.store_description, opened.preloaded)
        self._results = ResultsFile(plan.results_path, header)

    async def session(self, number: int, warmup: bool, origin: float, start: Start) -> None:
        """One session, started by the scheduler at `start`; `origin` is the run's clock."""
        setup, results, listener, label = self._setup, self._results, self._listener, self.label
        assert setup is not None and results is not None  # open() came first
        # A cancellation swallowed in the last session (or start-up) still ends the run here.
        stop_if_asked()
        session_id = f"{self._run_id}-{number}"
        user_data_dirs = [
            self._data_path / local_session_name(session_id),
            self._data_path / remote_session_name(session_id),
        ]
        self._user_data_dirs += user_data_dirs
        setup.db.create_account(number, session_id)
        if self._preloaded is not None and setup.store is not None:
            await store_quietly(setup.store.save(remote_session_name(session_id), self._preloaded))
        listener.session_started(label, number, warmup)
        result = await run_attempts(
            setup,
            self._engine,
            session_id,
            number=number,
            warmup=warmup,
            workspace_id=number,
            scenario_faults=self.plan.scenario.faults,
            on_stage_start=lambda stage: listener.stage_started(label, number, stage),
        )
        if setup.store is not None:
            await store_quietly(setup.store.delete(remote_session_name(session_id)))
        # After the browser closed, off the session's clock and off the event loop (other
        # sessions may be in flight): what its profile left on disk.
        profile_dir_mb = await asyncio.to_thread(_size_mb, user_data_dirs)
        result = dataclasses.replace(
            result,
            scheduled_start_ms=round((start.scheduled - origin) * 1000, 1),
            started_ms=round((start.actual - origin) * 1000, 1),
            profile_dir_mb=profile_dir_mb,
        )
        # Sessions in flight together finish in any order; the run keeps the order started.
        bisect.insort(self.sessions, result, key=lambda session: session.number)
        results.add_session(result)
        listener.session_finished(label, result)

    def close(self, status: RunStatus, auto_stop: TargetStop | None = None) -> RunOutcome:
        """Write the summary (with how `--runs auto` ended, if it judged this run) and
        clean up; safe after a failure or cancellation."""
        plan = self.plan
        otlp = None if self._setup is None else self._setup.otlp
        summary = summarize_run(
            self.sessions,
            plan.profile.target.deadline_s * 1000,
            self._webhook_rejections(),
            otlp_refused=None if otlp is None else otlp.refusals,
            auto_stop=auto_stop,
        )
        try:
            if self._results is not None and self.sessions:
                self._results.set_summary(summary.to_dict(), status)
        finally:
            # A summary that cannot be written (a full disk) must not leak the browsers.
            self._provider.reap(self._user_data_dirs)
            if not plan.keep_profiles:
                _remove_profiles(self._data_path, self._user_data_dirs, whole=self._owns_data_path)
        return RunOutcome(
            results_path=plan.results_path,
            sessions=self.sessions,
            summary=summary,
            data_path=self._data_path if plan.keep_profiles else None,
        )


def _header(
    plan: RunPlan, run_id: str, store_description: str | None, preloaded: Path | None
) -> dict[str, object]:
    remote_session = {}
    if preloaded is not None:
        # What each restore downloads and unpacks: the zip the scenario stored.
        remote_session["remote_session_mb"] = round(preloaded.stat().st_size / 2**20, 3)
    return {
        "qrbench_version": qrbench.__version__,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "plan": {
            **({"runs": "auto", "max_runs": plan.runs} if plan.adaptive else {"runs": plan.runs}),
            "warmup": plan.warmup,
            **plan.load.to_dict(),
        },
        "profile": profile_to_dict(plan.profile),
        "scenario": profile_to_dict(plan.scenario),
        "environment": {
            **environment.describe(plan.profile.browser.executable_path),
            "world": plan.profile.world.value,
        },
        "engine": describe_engine(plan.profile.engine),
        "auth_store": store_description,
        **remote_session,
    }


def _size_mb(directories: list[Path]) -> float | None:
    """The bytes under `directories`, in MB; None when none of them exists (the profile
    is somewhere else, a gateway's own)."""
    total, found = 0, False
    for directory in directories:
        for root, _, files in os.walk(directory):
            found = True
            for name in files:
                with contextlib.suppress(OSError):  # Chromium's sockets and locks come and go
                    total += os.lstat(os.path.join(root, name)).st_size
    return round(total / 2**20, 2) if found else None


def _remove_profiles(data_path: Path, user_data_dirs: list[Path], *, whole: bool) -> None:
    for path in [data_path] if whole else user_data_dirs:
        shutil.rmtree(path, ignore_errors=True)
