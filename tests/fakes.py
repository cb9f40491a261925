"""A fake engine and a fake browser provider: the runner without Chromium, in milliseconds.

The fake engine runs the model's critical stages on the session's clock, but its work is
scripted per (session number, attempt): show a QR, fail with an error, or hang until
cancelled. It reads the session's page from the replica over real HTTP, so the replica's
per-session faults reach it as they reach a browser.
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from qrbench.analysis.capacity import CapacityStep
from qrbench.analysis.thresholds import Thresholds
from qrbench.browsers.processes import TreesMemory
from qrbench.config.load import Load
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Browser
from qrbench.engines.base import FirstQr, PreparedSession
from qrbench.errors import EnvironmentProblem, NavigationFailed, QrTimeout, SessionFailure
from qrbench.measure.capacity import CapacityOutcome, CapacityPlan, MachineMemory, ramp
from qrbench.measure.plan import RunOutcome, RunPlan
from qrbench.measure.runner import Machinery, run
from qrbench.records import ResourceUsage, Stage
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import RecordingListener

FAKE_RESOURCES = ResourceUsage(peak_rss_mb=1.0, cpu_time_s=0.01, processes=1)


class Act(Enum):
    SHOW_QR = "show QR"
    TIME_OUT = "time out in qr_wait"
    RAISE_BUG = "raise a bug (RuntimeError) in page_load"
    HANG = "hang in qr_wait until cancelled"
    SLOW = "take SLOW_S in qr_wait, then show a QR"


# Long next to a fake session's own few ms, so sessions in flight together overlap.
SLOW_S = 0.3


class FakeBrowser:
    def __init__(self, provider: "FakeProvider", user_data_dir: Path) -> None:
        self.provider = provider
        self.user_data_dir = user_data_dir
        self.crashed = False

    @property
    def context(self) -> Any:
        raise AssertionError("the fake engine never drives a page")

    async def crash(self) -> None:
        self.crashed = True

    async def close(self) -> ResourceUsage | None:
        self.provider.open_browsers.remove(self)
        return FAKE_RESOURCES if self.provider.measures_processes else None


@dataclass
class FakeProvider:
    measures_processes: bool = True
    # Raised by check(): a machine with no browser to be had.
    missing: str | None = None
    open_browsers: list[FakeBrowser] = field(default_factory=list)
    launched: int = 0
    # The most browsers open at once: the sessions in flight together.
    most_open: int = 0
    reaped: list[Path] = field(default_factory=list)
    opened: bool = False

    def check(self, config: Browser) -> None:
        if self.missing is not None:
            raise EnvironmentProblem(self.missing)

    async def __aenter__(self) -> Self:
        self.opened = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.opened = False

    async def launch(
        self, config: Browser, user_data_dir: Path, extra_args: list[str]
    ) -> FakeBrowser:
        assert self.opened, "launch before the provider was opened"
        browser = FakeBrowser(self, user_data_dir)
        self.open_browsers.append(browser)
        self.launched += 1
        self.most_open = max(self.most_open, len(self.open_browsers))
        return browser

    def reap(self, user_data_dirs: list[Path]) -> None:
        self.reaped += user_data_dirs


class FakePage:
    refs_seen = 1

    def on_new_ref(self, callback: Callable[[str], None]) -> None:
        pass

    def give_up(self, failure: SessionFailure) -> None:
        pass

    async def verify(self) -> None:
        pass

    async def ready(self, timeout_ms: int) -> float:
        raise AssertionError("no scan in the fake's scenarios")

    async def fetch_chats(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return []


@dataclass
class FakeEngines:
    """An EngineFactory: `script[(number, attempt)]` says what that attempt does (default:
    show a QR); session numbers count from 1 in the order the runner starts them."""

    script: dict[tuple[int, int], Act] = field(default_factory=dict)
    started: list[tuple[str, int]] = field(default_factory=list)
    closed: int = 0
    hang_started: asyncio.Event = field(default_factory=asyncio.Event)
    # Every session's qr_wait takes this long for each browser open when it gets there, so
    # sessions slow down with load as they do on a machine with more browsers than cores.
    seconds_per_open_browser: float = 0.0

    def __call__(self, session: PreparedSession) -> "FakeEngine":
        attempt = 1 + sum(1 for started, _ in self.started if started == session.session_id)
        number = int(session.session_id.rsplit("-", 1)[1])
        self.started.append((session.session_id, attempt))
        return FakeEngine(self, session, self.script.get((number, attempt), Act.SHOW_QR))


class FakeEngine:
    auth = "localauth"
    web_cache = "not_used"

    def __init__(self, engines: FakeEngines, session: PreparedSession, act: Act) -> None:
        self._engines = engines
        self._session = session
        self._act = act
        self._browser: FakeBrowser | None = None

    async def show_qr(self) -> FirstQr:
        session, timer = self._session, self._session.timer
        with timer.stage(Stage.BROWSER_LAUNCH, critical=True):
            self._browser = await session.setup.provider.launch(
                session.profile.browser, Path(f"/nonexistent/{session.session_id}"), []
            )
        with timer.stage(Stage.PAGE_LOAD, critical=True):
            if self._act is Act.RAISE_BUG:
                raise RuntimeError("a bug in the engine")
            url = session.setup.to_loopback(session.page_url)
            # The replica's certificate is the run's own; Chromium trusts it by its key.
            async with session.setup.http.get(url, ssl=False) as response:
                if response.status != 200:
                    raise NavigationFailed(f"HTTP {response.status}")
        with timer.stage(Stage.QR_WAIT, critical=True):
            if self._act is Act.TIME_OUT:
                raise QrTimeout("no QR in the page (scripted)")
            if self._act is Act.HANG:
                self._engines.hang_started.set()
                await asyncio.Event().wait()
            if self._act is Act.SLOW:
                await asyncio.sleep(SLOW_S)
            if self._engines.seconds_per_open_browser and self._browser is not None:
                open_browsers = len(self._browser.provider.open_browsers)
                await asyncio.sleep(self._engines.seconds_per_open_browser * open_browsers)
        return FirstQr(f"2@fake-{session.session_id}", FakePage())

    async def after_qr(self) -> None:
        pass

    async def close(self) -> ResourceUsage | None:
        self._engines.closed += 1
        return None if self._browser is None else await self._browser.close()


def plan_for(tmp_path: Path, profile_yaml: str, *, runs: int, warmup: int = 0, name: str = "p"):
    profile = load_profile(str(write_yaml(tmp_path / f"{name}.yaml", profile_yaml)))
    scenario = load_scenario(str(write_yaml(tmp_path / "small.yaml", SMALL_WORLD)))
    return RunPlan(
        profile=profile,
        scenario=scenario,
        runs=runs,
        warmup=warmup,
        results_path=tmp_path / "results" / f"{name}.json",
    )


def run_fake(
    plan: RunPlan, engines: FakeEngines, provider: FakeProvider
) -> tuple[RunOutcome, RecordingListener]:
    listener = RecordingListener()
    machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
    return asyncio.run(run(plan, listener, machinery)), listener


def cancel_when_hanging(plan: RunPlan, engines: FakeEngines, provider: FakeProvider) -> None:
    """Run `plan` and cancel it (as Ctrl-C does) once a session hangs or swallows."""

    async def cancel() -> None:
        machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
        task = asyncio.create_task(run(plan, RecordingListener(), machinery))
        await engines.hang_started.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled(), "the run finished instead of being cancelled"

    asyncio.run(cancel())


MB = 2**20


@dataclass
class FakeMachine:
    """A machine of `total_mb` whose browsers (the provider's open ones) each take
    `per_browser_mb` (PSS), and whose swap grows by `swap_per_browser_mb` for each browser
    beyond `swap_after_browsers`."""

    provider: FakeProvider
    total_mb: float = 24_000.0
    free_mb: float = 20_000.0
    per_browser_mb: float = 300.0
    shared_rss_mb: float = 100.0
    swap_after_browsers: int | None = None
    swap_per_browser_mb: float = 100.0
    cpu_percent_value: float = 42.0
    # A warm pool: this many browser processes, whatever the sessions open in them.
    pool_browsers: int | None = None

    def _open(self) -> int:
        return len(self.provider.open_browsers)

    def memory(self) -> MachineMemory:
        swapped = 0.0
        if self.swap_after_browsers is not None:
            beyond = max(0, self._open() - self.swap_after_browsers)
            swapped = beyond * self.swap_per_browser_mb
        return MachineMemory(
            total_mb=self.total_mb,
            available_mb=self.free_mb - self._open() * self.per_browser_mb,
            swap_used_mb=swapped,
        )

    def browsers(self) -> TreesMemory:
        open_now = self._open()
        pss = open_now * self.per_browser_mb * MB
        # RSS counts the pages the browsers share once in each.
        rss = open_now * (self.per_browser_mb + self.shared_rss_mb) * MB
        browsers = open_now if self.pool_browsers is None else self.pool_browsers
        return TreesMemory(rss=int(rss), pss=int(pss), browsers=browsers)

    def cpu_percent(self) -> float:
        return self.cpu_percent_value


class RecordingRampListener(RecordingListener):
    """Also keeps the ramp's step events."""

    def step_started(self, number: int, load: Load, sessions: int) -> None:
        self.events.append(("step", number, load.to_dict(), sessions))

    def step_finished(self, step: CapacityStep) -> None:
        self.events.append(("step done", step.number, step.meets))


def capacity_plan_for(
    tmp_path: Path,
    steps: list[int],
    *,
    sessions: int = 10,
    warmup: int = 1,
    headroom: float = 20.0,
    target_ms: float = 10_000.0,
    profile_yaml: str = "extends: optimized\n",
) -> CapacityPlan:
    """A ramp of `steps` concurrencies in the small world, into tmp_path/results/ramp.json."""
    base = plan_for(tmp_path, profile_yaml, runs=1)
    return CapacityPlan(
        profile=base.profile,
        scenario=base.scenario,
        steps=tuple(Load(concurrency=n) for n in steps),
        sessions_per_step=sessions,
        warmup=warmup,
        thresholds=Thresholds(
            target_ms=target_ms, percentile=95, min_success_percent=98, max_regression_percent=10
        ),
        headroom_percent=headroom,
        results_path=tmp_path / "results" / "ramp.json",
    )


def run_fake_ramp(
    plan: CapacityPlan,
    engines: FakeEngines,
    provider: FakeProvider,
    machine: FakeMachine,
    listener: RecordingRampListener | None = None,
) -> CapacityOutcome:
    machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
    return asyncio.run(ramp(plan, listener or RecordingRampListener(), machinery, machine))
