"""Whether this machine can run what a profile asks: `qrbench doctor`, and the checks
`run` and `capacity` make before their first session (`preflight`).

Each check is data (what it found, whether the profile needs it); report/wording/doctor.py
says it and gives the fix. The checks that decide a run are the same functions the runner
calls: the provider's own `check` and the engine's `check_engine`.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import psutil

from qrbench.browsers.base import BrowserProvider
from qrbench.browsers.local import check_executable, launch
from qrbench.browsers.processes import descendant_chromium_memory
from qrbench.browsers.providers import provider_for
from qrbench.config.models import (
    BrowserProviderKind,
    EngineKind,
    Profile,
    Scenario,
    StoreBackend,
    World,
)
from qrbench.engines.model.auth import uses_remote_auth
from qrbench.engines.registry import check_engine
from qrbench.engines.wwebjs import install
from qrbench.errors import BrowserLaunchFailed, EnvironmentProblem, QrbenchError
from qrbench.measure.environment import chromium_version
from qrbench.world import live
from qrbench.world.stores import REDIS_URL_ENV
from qrbench.world.stores.private_redis import redis_server_path

# Chromium keeps renderer memory in /dev/shm; Docker's default 64 MB crashes it under
# load. Below this, a profile without --disable-dev-shm-usage gets a warning.
SHM_ADVISED_MB = 512
DISABLE_DEV_SHM = "--disable-dev-shm-usage"
# Said by the doctor, before a run, and when a session's browser crashed on a small shm.
SHM_ADVICE = (
    f"Chromium keeps renderer memory in /dev/shm; below {SHM_ADVISED_MB} MB (Docker's "
    f"default is 64 MB) it crashes under load: add {DISABLE_DEV_SHM} to browser.args, "
    "or give the container a larger /dev/shm (docker run --shm-size=1g)"
)
_MB = 1024 * 1024


class CheckName(StrEnum):
    CHROMIUM = "chromium"
    LAUNCH = "chromium launch"
    SHM = "/dev/shm"
    NODE = "node and npm"
    DRIVER = "whatsapp-web.js modules"
    REDIS = "redis-server"
    MEMORY = "memory"
    CPU = "cpu"
    PORTS = "loopback ports"
    ENDPOINTS = "browser endpoints"
    LIVE = "web.whatsapp.com"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # runs, but the fix would make it more reliable
    FAIL = "fail"
    SKIPPED = "skipped"  # could not be checked because an earlier check failed


@dataclass(frozen=True)
class Check:
    name: CheckName
    status: Status
    # Whether this profile needs it: only a needed check that fails fails the doctor.
    needed: bool
    # What was found: versions, sizes, counts (facts, not advice).
    found: str
    # The failure as the runner would raise it, when there is one (it carries the fix).
    problem: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    profile: str
    engine: EngineKind
    checks: list[Check]

    @property
    def ready(self) -> bool:
        """Everything the profile needs is here."""
        return not any(check.needed and check.status is Status.FAIL for check in self.checks)


def _check(name: CheckName, needed: bool, found: str, problem: EnvironmentProblem) -> Check:
    return Check(name, Status.FAIL, needed, found, str(problem))


def preflight(
    profile: Profile, scenario: Scenario, provider: BrowserProvider, profiles_engine: bool
) -> list[Check]:
    """Before a run's first session: raises EnvironmentProblem (exit 3) or ConfigError
    (exit 2) for what stops it; returns the warnings worth a line. `profiles_engine` is
    False where a test drives the sessions with an engine of its own."""
    # A profile the engine cannot honour is refused before the endpoints are tried: no
    # point in fixing the network for a run that cannot happen.
    if profiles_engine:
        check_engine(profile, scenario)
    if profile.world is World.LIVE:
        live.probe(live.live_url())
    provider.check(profile.browser)
    return [check for check in (_shm(profile),) if check.status is Status.WARN]


async def diagnose(
    profile: Profile, scenario: Scenario, *, replica_bind: str, live: bool, results_dir: Path
) -> Diagnosis:
    """Every check, for `qrbench doctor`; never raises for what it finds."""
    local = profile.browser.provider is BrowserProviderKind.LOCAL
    chromium = _chromium(profile, needed=local)
    launched, idle_mb = (
        await _launch(profile, needed=local)
        if chromium.status is Status.OK
        else (Check(CheckName.LAUNCH, Status.SKIPPED, local, "no Chromium to launch"), None)
    )
    checks = [
        chromium,
        launched,
        _shm(profile),
        *_engine(profile, scenario),
        _redis(profile, scenario),
        _memory(session_size(results_dir, profile.name, idle_mb)),
        _cpu(),
        _ports(replica_bind, profile.browser.replica_port),
        _endpoints(profile),
    ]
    if live or profile.world is World.LIVE:
        checks.append(await asyncio.to_thread(_live))
    return Diagnosis(profile.name, profile.engine, checks)


def _chromium(profile: Profile, *, needed: bool) -> Check:
    path = profile.browser.executable_path
    try:
        check_executable(path)
    except EnvironmentProblem as problem:
        return _check(CheckName.CHROMIUM, needed, f"nothing at {path}", problem)
    return Check(CheckName.CHROMIUM, Status.OK, needed, f"{chromium_version(path)} at {path}")


async def _launch(profile: Profile, *, needed: bool) -> tuple[Check, float | None]:
    """Launches Chromium as a session's launch does (`browsers.local.launch`: the profile's
    args, timeout and user agent, a fresh profile dir) and measures its process tree."""
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="qrbench-doctor-") as user_data_dir:
        started = time.monotonic()
        try:
            async with async_playwright() as playwright:
                context = await launch(playwright, profile.browser, Path(user_data_dir), [])
                try:
                    launch_s = time.monotonic() - started
                    trees = descendant_chromium_memory(psutil.Process())
                finally:
                    await context.close()
        except BrowserLaunchFailed as failed:
            problem = EnvironmentProblem(
                f"Chromium did not start with the profile's args: {failed}"
            )
            return _check(CheckName.LAUNCH, needed, "launch failed", problem), None
    size_mb = (trees.rss if trees.pss is None else trees.pss) / _MB
    kind = "RSS" if trees.pss is None else "PSS"
    found = f"started in {launch_s:.1f} s; an idle tree of {size_mb:,.0f} MB ({kind})"
    return Check(CheckName.LAUNCH, Status.OK, needed, found), size_mb


def shm_megabytes() -> float | None:
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    return stats.f_blocks * stats.f_frsize / _MB


def _shm(profile: Profile) -> Check:
    size_mb = shm_megabytes()
    avoided = DISABLE_DEV_SHM in profile.browser.args
    if size_mb is None:
        found = "no /dev/shm" + (f" ({DISABLE_DEV_SHM} set)" if avoided else "")
        if avoided:
            return Check(CheckName.SHM, Status.OK, False, found)
        return Check(CheckName.SHM, Status.WARN, False, found, SHM_ADVICE)
    found = f"{size_mb:,.0f} MB" + (f", {DISABLE_DEV_SHM} set" if avoided else "")
    if size_mb < SHM_ADVISED_MB and not avoided:
        return Check(CheckName.SHM, Status.WARN, False, found, SHM_ADVICE)
    return Check(CheckName.SHM, Status.OK, False, found)


def _engine(profile: Profile, scenario: Scenario) -> list[Check]:
    needed = profile.engine is EngineKind.WWEBJS
    try:
        node = install.node_executable()
    except EnvironmentProblem as problem:
        return [
            _check(CheckName.NODE, needed, "no node", problem),
            Check(CheckName.DRIVER, Status.SKIPPED, needed, "no node to run it"),
        ]
    versions = f"node {_version_of([node, '--version'])}, npm {_version_of(['npm', '--version'])}"
    node_check = Check(CheckName.NODE, Status.OK, needed, versions)
    try:
        library = install.library_version()
    except EnvironmentProblem as problem:
        return [node_check, _check(CheckName.DRIVER, needed, "not installed", problem)]
    return [node_check, Check(CheckName.DRIVER, Status.OK, needed, f"{install.LIBRARY} {library}")]


def _version_of(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not found"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _redis(profile: Profile, scenario: Scenario) -> Check:
    store = profile.auth.store
    remote = uses_remote_auth(profile, restoring=scenario.remote_session.present)
    url = store.url or os.environ.get(REDIS_URL_ENV)
    # A private redis-server is what a run without a URL starts; `auto` falls back to SQLite.
    needed = remote and not url and store.backend is StoreBackend.REDIS
    path = redis_server_path()
    if url:
        return Check(CheckName.REDIS, Status.OK, False, f"a Redis URL is set ({REDIS_URL_ENV})")
    if path is None:
        status = Status.FAIL if needed else Status.WARN if remote else Status.OK
        found = "not on PATH" + ("" if remote else " (this profile uses no RemoteAuth store)")
        problem = "redis-server not found: install it with 'apt-get install redis-server'"
        return Check(CheckName.REDIS, status, needed, found, problem if remote else None)
    return Check(CheckName.REDIS, Status.OK, needed, path)


@dataclass(frozen=True)
class SessionSize:
    megabytes: float
    # Where the figure comes from: a results file's sessions, or the idle launch above.
    source: Path | None


def session_size(results_dir: Path, profile: str, idle_mb: float | None) -> SessionSize | None:
    """A session's memory as measured: the median peak RSS of this profile's newest
    results file with resources, else the idle Chromium just launched (a lower bound)."""
    from qrbench import results

    for path in sorted(results_dir.glob(f"*-{profile}-*.json"), reverse=True):
        try:
            saved = results.load(path)
        except QrbenchError:  # an unreadable file is just no evidence
            continue
        sizes = [
            session.resources.peak_rss_mb
            for session in saved.sessions
            if session.resources is not None and session.resources.peak_rss_mb is not None
        ]
        if sizes:
            return SessionSize(statistics.median(sizes), path)
    return None if idle_mb is None else SessionSize(idle_mb, None)


def _memory(size: SessionSize | None) -> Check:
    available_mb = psutil.virtual_memory().available / _MB
    found = f"{available_mb:,.0f} MB available"
    if size is not None:
        fit = int(available_mb // size.megabytes) if size.megabytes > 0 else 0
        source = "an idle Chromium, a lower bound" if size.source is None else str(size.source)
        found += f"; {fit} sessions of {size.megabytes:,.0f} MB fit ({source})"
    return Check(
        CheckName.MEMORY,
        Status.OK if size is None or available_mb > size.megabytes else Status.WARN,
        False,
        found,
    )


def _cpu() -> Check:
    cores = os.cpu_count() or 1
    load1, _, _ = os.getloadavg()
    found = f"{cores} cores, load average {load1:.2f}"
    return Check(CheckName.CPU, Status.WARN if load1 > cores else Status.OK, False, found)


def _ports(replica_bind: str, replica_port: int | None) -> Check:
    """The replica and the webhook receiver each bind a free port on these addresses (the
    replica its fixed three, with browser.replica_port)."""
    wanted = [("127.0.0.1", 0), (replica_bind, 0)]
    if replica_port is not None:
        wanted += [(replica_bind, port) for port in range(replica_port, replica_port + 3)]
    for address, port in dict.fromkeys(wanted):
        where = address if port == 0 else f"{address} port {port}"
        try:
            with _bound(address, port):
                pass
        except OSError as error:
            problem = EnvironmentProblem(
                f"cannot bind a port on {where}: {error.strerror or error} (the replica "
                "listens there; use an address this machine has, or free a port)"
            )
            return _check(CheckName.PORTS, True, f"{where}: {error.strerror}", problem)
    addresses = ", ".join(dict.fromkeys(address for address, _ in wanted))
    fixed = "" if replica_port is None else f" (replica at {replica_port}-{replica_port + 2})"
    return Check(CheckName.PORTS, Status.OK, True, addresses + fixed)


@contextlib.contextmanager
def _bound(address: str, port: int) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        # As the replica binds (socket.create_server): a port in TIME_WAIT is free.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        yield listener


def _endpoints(profile: Profile) -> Check:
    config = profile.browser
    remote = config.provider is not BrowserProviderKind.LOCAL
    if not remote:
        return Check(CheckName.ENDPOINTS, Status.OK, False, "none (local browsers)")
    try:
        provider_for(config).check(config)
    except EnvironmentProblem as problem:
        return _check(CheckName.ENDPOINTS, True, "unreachable", problem)
    return Check(CheckName.ENDPOINTS, Status.OK, True, ", ".join(config.endpoints))


def _live() -> Check:
    """Whether the live world's host answers over HTTPS from here (`world.live.probe`)."""
    try:
        reached = live.probe(live.live_url())
    except live.LiveUnreachable as problem:
        return _check(CheckName.LIVE, True, f"{problem.host}: {problem.step} failed", problem)
    return Check(CheckName.LIVE, Status.OK, True, f"{reached.address}: {reached.status_line}")
