"""Many sessions under one profile and scenario: warmup, repetitions, results on disk.

The runner never prints; a `RunListener` hears about progress.
"""

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from playwright.async_api import async_playwright

import qrbench
from qrbench import environment
from qrbench.processes import reap
from qrbench.profile import Profile, Scenario, profile_to_dict
from qrbench.replica.server import Replica, ReplicaConfig, ReplicaUrls
from qrbench.results import ResultsFile
from qrbench.session import SessionResult, SessionSetup, run_session
from qrbench.stages.browser import check_executable
from qrbench.summary import RunSummary, summarize_run


class RunListener(Protocol):
    def run_started(self, total_sessions: int, results_path: Path) -> None: ...
    def session_started(self, number: int, warmup: bool) -> None: ...
    def stage_started(self, number: int, stage: str) -> None: ...
    def session_finished(self, result: SessionResult) -> None: ...


@dataclass(frozen=True)
class RunPlan:
    profile: Profile
    scenario: Scenario
    runs: int
    warmup: int
    results_path: Path
    keep_profiles: bool = False

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

    On cancellation (Ctrl-C) the finished sessions and their summary are still written
    and every browser and server this run started is stopped before it propagates.
    """
    profile = plan.profile
    check_executable(profile.browser.executable_path)
    run_id = uuid.uuid4().hex[:8]
    results = ResultsFile(plan.results_path, _header(plan, run_id))
    owns_data_path = profile.auth.data_path is None
    data_path = (
        Path(tempfile.mkdtemp(prefix="qrbench-"))
        if owns_data_path
        else Path(profile.auth.data_path or "")
    )
    sessions: list[SessionResult] = []
    user_data_dirs: list[Path] = []
    replica = (
        Replica(_replica_config(profile, plan.scenario)) if profile.target.url is None else None
    )
    schedule = plan.schedule()
    listener.run_started(len(schedule), plan.results_path)
    try:
        urls = replica.start() if replica is not None else None
        async with async_playwright() as playwright:
            setup = SessionSetup(
                playwright=playwright,
                profile=profile,
                data_path=data_path,
                target_url=urls.whatsapp if urls else str(profile.target.url),
                extra_args=_replica_args(urls),
                to_loopback=urls.to_loopback if urls else _unchanged,
            )
            for number, warmup in enumerate(schedule, start=1):
                session_id = f"{run_id}-{number}"
                user_data_dirs.append(data_path / f"session-{session_id}")
                listener.session_started(number, warmup)
                result = await run_session(
                    setup,
                    session_id,
                    number=number,
                    warmup=warmup,
                    on_stage_start=lambda stage, n=number: listener.stage_started(n, stage),
                )
                sessions.append(result)
                results.add_session(result)
                listener.session_finished(result)
    finally:
        summary = summarize_run(sessions, profile.target.deadline_s * 1000)
        if sessions:
            results.set_summary(summary)
        reap(user_data_dirs)
        if replica is not None:
            replica.stop()
        if not plan.keep_profiles:
            _remove_profiles(data_path, user_data_dirs, whole=owns_data_path)
    return RunOutcome(
        results_path=plan.results_path,
        sessions=sessions,
        summary=summary,
        data_path=data_path if plan.keep_profiles else None,
    )


def _header(plan: RunPlan, run_id: str) -> dict[str, object]:
    return {
        "qrbench_version": qrbench.__version__,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "plan": {"runs": plan.runs, "warmup": plan.warmup},
        "profile": profile_to_dict(plan.profile),
        "scenario": profile_to_dict(plan.scenario),
        "environment": environment.describe(plan.profile.browser.executable_path),
    }


def _replica_config(profile: Profile, scenario: Scenario) -> ReplicaConfig:
    return ReplicaConfig(
        version=profile.web_version,
        index_kb=scenario.replica.index_kb,
        bundle_kb=scenario.replica.bundle_kb,
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
