"""`qrbench capacity`: ramp the load step by step until the criterion breaks or a limit.

Each step is an ordinary run (`runner.run`) under one `Load`, into its own results file,
while the machine is watched: CPU over the step, the memory of this run's Chromium trees
(PSS where the kernel gives it), what memory is left and swap. A step that would not fit
above the headroom is not started; a step that runs into the headroom or makes the machine
swap is cancelled at once (the runner closes every browser and keeps the finished
sessions). The core never prints: a `CapacityListener` hears progress.
"""

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import psutil

import qrbench
from qrbench import results
from qrbench.analysis.capacity import (
    DOCUMENTED_SESSION_MB,
    MIN_SESSIONS_PER_STEP,
    CapacityStep,
    KneeStep,
    MemoryEstimate,
    StepEnd,
    StepMemory,
    Stop,
    StopReason,
    headroom_mb,
    in_flight_estimate,
    judge_step,
    knee,
    step_sessions,
)
from qrbench.analysis.thresholds import Thresholds
from qrbench.browsers.processes import TreesMemory, descendant_chromium_memory
from qrbench.capacity_results import CapacityFile
from qrbench.columns import MeasuredSessions
from qrbench.config.load import Load
from qrbench.config.models import EngineKind, Profile, Scenario, profile_to_dict
from qrbench.engines.gateway.process import gateway_tree_memory
from qrbench.errors import ConfigError
from qrbench.measure import environment
from qrbench.measure.plan import RunListener, RunPlan
from qrbench.measure.runner import Machinery, run
from qrbench.records import SessionResult
from qrbench.results import RunStatus

# Swap used may move by a few pages for reasons of its own; more than this during a step
# is the machine swapping, and a step measured while swapping measures the disk.
SWAP_GROWTH_TOLERANCE_MB = 32.0
WATCH_INTERVAL_S = 0.5
_MB = 2**20


@dataclass(frozen=True)
class MachineMemory:
    total_mb: float
    available_mb: float
    swap_used_mb: float


class Machine(Protocol):
    """What the ramp watches; tests pass a scripted one."""

    def memory(self) -> MachineMemory: ...

    def browsers(self) -> TreesMemory:
        """This run's Chromium trees now."""
        ...

    def cpu_percent(self) -> float:
        """Every core's use since the last call, 0-100."""
        ...


class LocalMachine:
    """This machine, through psutil; the browsers are the Chromiums under this process,
    or the process trees `trees` says (a gateway's)."""

    def __init__(
        self, trees: Callable[[psutil.Process], TreesMemory] = descendant_chromium_memory
    ) -> None:
        self._me = psutil.Process()
        self._trees = trees

    def memory(self) -> MachineMemory:
        virtual, swap = psutil.virtual_memory(), psutil.swap_memory()
        return MachineMemory(
            total_mb=virtual.total / _MB,
            available_mb=virtual.available / _MB,
            swap_used_mb=swap.used / _MB,
        )

    def browsers(self) -> TreesMemory:
        return self._trees(self._me)

    def cpu_percent(self) -> float:
        return float(psutil.cpu_percent(interval=None))


# What a gateway qrbench did not start shows: nothing it could measure.
_UNSEEN = TreesMemory(rss=0, pss=None, browsers=0)


def machine_for(profile: Profile) -> LocalMachine:
    """This machine, watching the memory the profile's sessions take: this run's
    Chromiums; for engine gateway the gateway's whole tree when qrbench starts it (the
    reference gateway, or a `command`), and none when it runs elsewhere."""
    if profile.engine is not EngineKind.GATEWAY:
        return LocalMachine()
    if profile.gateway is None or profile.gateway.command:
        return LocalMachine(gateway_tree_memory)
    return LocalMachine(lambda _me: _UNSEEN)


class CapacityListener(RunListener, Protocol):
    """A run's listener (each step is a run) that also hears where the ramp is."""

    def step_started(self, number: int, load: Load, sessions: int) -> None: ...
    def step_finished(self, step: CapacityStep) -> None: ...


@dataclass(frozen=True)
class CapacityPlan:
    profile: Profile
    scenario: Scenario
    # Increasing loads, all concurrencies or all arrival rates.
    steps: tuple[Load, ...]
    sessions_per_step: int
    # Run before the first step only: the ramp's one cold start, left out.
    warmup: int
    thresholds: Thresholds
    headroom_percent: float
    results_path: Path

    def step_path(self, number: int) -> Path:
        """Where step `number` keeps its sessions: a folder named after the ramp's file."""
        return self.results_path.with_suffix("") / f"step-{number}.json"

    def sessions(self, load: Load) -> int:
        return step_sessions(load, self.sessions_per_step)

    def in_flight(self, load: Load) -> int:
        return in_flight_estimate(load, self.thresholds.target_ms, self.sessions(load))


@dataclass(frozen=True)
class CapacityOutcome:
    results_path: Path
    steps: list[CapacityStep]
    stop: Stop
    knee: KneeStep | None


def check_plan(plan: CapacityPlan, *, min_sessions_per_step: int = MIN_SESSIONS_PER_STEP) -> None:
    """Raises ConfigError for a ramp that cannot be judged: too few sessions a step, no
    steps, steps not increasing or of mixed kinds."""
    if plan.sessions_per_step < min_sessions_per_step:
        raise ConfigError(
            f"--sessions-per-step must be at least {min_sessions_per_step} (got "
            f"{plan.sessions_per_step}): fewer cannot judge a p95 or a success rate"
        )
    if not plan.steps:
        raise ConfigError("a capacity ramp needs at least one step")
    kinds = {load.arrival_rate_per_min is None for load in plan.steps}
    if len(kinds) != 1:
        raise ConfigError("a ramp's steps are all concurrencies or all arrival rates")
    option = "--steps" if kinds == {True} else "--arrival-rates"
    sizes = [load.arrival_rate_per_min or load.concurrency for load in plan.steps]
    shown = ", ".join(f"{size:g}" for size in sizes)
    if any(size <= 0 for size in sizes):
        raise ConfigError(f"{option}: every step must be above 0 (got {shown})")
    if any(later <= earlier for earlier, later in itertools.pairwise(sizes)):
        raise ConfigError(f"{option}: steps must increase (got {shown})")


def estimate(
    plan: CapacityPlan, load: Load, machine: Machine, per_session_mb: float | None
) -> MemoryEstimate:
    """Whether `load` fits now, at the measured per-session figure or the documented one."""
    memory = machine.memory()
    return MemoryEstimate(
        in_flight=plan.in_flight(load),
        per_session_mb=DOCUMENTED_SESSION_MB if per_session_mb is None else per_session_mb,
        measured=per_session_mb is not None,
        available_mb=memory.available_mb,
        headroom_mb=headroom_mb(memory.total_mb, plan.headroom_percent),
    )


def largest_step_estimate(plan: CapacityPlan, machine: Machine) -> MemoryEstimate:
    """The ramp's largest step at the documented per-session figure: checked before a ramp
    whose steps were asked for, so one that cannot fit is refused instead of stopped."""
    return estimate(plan, plan.steps[-1], machine, None)


async def ramp(
    plan: CapacityPlan,
    listener: CapacityListener,
    machinery: Machinery | None = None,
    machine: Machine | None = None,
    *,
    min_sessions_per_step: int = MIN_SESSIONS_PER_STEP,
) -> CapacityOutcome:
    """Run the plan's steps in order until one breaks the criterion, would not fit, or is
    stopped to spare the machine; the capacity file is rewritten after every step.

    On cancellation (Ctrl-C) the step in flight is stopped as any run is, and the file
    keeps the finished steps, marked interrupted. `min_sessions_per_step` is lowered only
    by tests that must run real browsers briefly.
    """
    check_plan(plan, min_sessions_per_step=min_sessions_per_step)
    machinery = machinery or Machinery()
    machine = machine or machine_for(plan.profile)
    capacity_file = CapacityFile(plan.results_path, _header(plan, machine))
    steps: list[CapacityStep] = []
    stop: Stop | None = None
    status = RunStatus.INTERRUPTED
    try:
        for number, load in enumerate(plan.steps, start=1):
            fits = estimate(plan, load, machine, _per_session_mb(steps))
            if not fits.fits:
                stop = Stop(StopReason.MEMORY, number, load, fits)
                break
            listener.step_started(number, load, plan.sessions(load))
            step = await _run_step(plan, number, load, listener, machinery, machine)
            steps.append(step)
            capacity_file.add_step(step, knee(steps))
            listener.step_finished(step)
            if step.end is not StepEnd.COMPLETE:
                reason = StopReason.MEMORY if step.end is StepEnd.MEMORY else StopReason.SWAP
                stop = Stop(reason, number, load)
                break
            if not step.meets:
                stop = Stop(StopReason.CRITERION, number, load)
                break
        else:
            stop = Stop(StopReason.LAST_STEP, len(plan.steps), plan.steps[-1])
        status = RunStatus.COMPLETE
    finally:
        # An interrupted ramp with no finished step leaves no file, as an interrupted run.
        if steps or status is RunStatus.COMPLETE:
            capacity_file.finish(status, stop, knee(steps))
    assert stop is not None
    return CapacityOutcome(plan.results_path, steps, stop, knee(steps))


def _per_session_mb(steps: list[CapacityStep]) -> float | None:
    """The largest memory per session measured so far: the safe side for the next step."""
    measured = [
        step.memory.per_session_mb
        for step in steps
        if step.memory is not None and step.memory.per_session_mb is not None
    ]
    return max(measured) if measured else None


async def _run_step(
    plan: CapacityPlan,
    number: int,
    load: Load,
    listener: CapacityListener,
    machinery: Machinery,
    machine: Machine,
) -> CapacityStep:
    step_plan = RunPlan(
        profile=plan.profile,
        scenario=plan.scenario,
        runs=plan.sessions(load),
        warmup=plan.warmup if number == 1 else 0,
        results_path=plan.step_path(number),
        load=load,
    )
    memory = machine.memory()
    in_flight = _InFlight(listener)
    watch = _Watch(machine, memory, headroom_mb(memory.total_mb, plan.headroom_percent), in_flight)
    machine.cpu_percent()  # starts the CPU count for this step
    started = time.monotonic()
    stepping = asyncio.create_task(run(step_plan, in_flight, machinery))
    watching = asyncio.create_task(watch.until_tripped())
    try:
        await asyncio.wait({stepping, watching}, return_when=asyncio.FIRST_COMPLETED)
        # Read now: a sample still running in its thread may finish after the step.
        end = watch.tripped or StepEnd.COMPLETE
    finally:
        # Ctrl-C, or the watch tripped: the runner closes the step's browsers as it stops.
        for task in (watching, stepping):
            task.cancel()
        await asyncio.gather(watching, stepping, return_exceptions=True)
    if not stepping.cancelled():
        stepping.result()  # the step's own error (no Chromium, every output unwritable)
    duration_s = time.monotonic() - started
    cpu = machine.cpu_percent()
    return CapacityStep(
        number=number,
        load=load,
        results_path=str(step_plan.results_path),
        end=end,
        duration_s=duration_s,
        judgement=judge_step(_measured(step_plan.results_path), plan.thresholds),
        cpu_percent=cpu,
        memory=watch.peak(),
        swap_used_start_mb=memory.swap_used_mb,
        swap_used_peak_mb=watch.swap_peak_mb,
    )


def _measured(path: Path) -> MeasuredSessions:
    """The step's measured sessions from its file; none when no session finished."""
    if not path.exists():
        return MeasuredSessions.of([])
    return results.read_run(path).columns


class _InFlight:
    """Passes a step's progress on, counting the sessions between their start and end:
    memory per session is the peak over them, not over the browsers open (a warm pool
    keeps its browsers open with any number of sessions in them)."""

    def __init__(self, listener: RunListener) -> None:
        self._listener = listener
        self.sessions = 0

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None:
        self._listener.run_started(total_sessions, results_paths)

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        self.sessions += 1
        self._listener.session_started(label, number, warmup)

    def stage_started(self, label: str, number: int, stage: str) -> None:
        self._listener.stage_started(label, number, stage)

    def session_finished(self, label: str, result: SessionResult) -> None:
        self.sessions -= 1
        self._listener.session_finished(label, result)

    def warning(self, message: str) -> None:
        self._listener.warning(message)

    def notice(self, message: str) -> None:
        self._listener.notice(message)


class _Watch:
    """Samples the machine during a step; trips when memory reaches the headroom or swap
    use grows."""

    def __init__(
        self, machine: Machine, start: MachineMemory, headroom: float, in_flight: _InFlight
    ) -> None:
        self._machine = machine
        self._start = start
        self._headroom_mb = headroom
        self._in_flight = in_flight
        self.tripped: StepEnd | None = None
        self.swap_peak_mb = start.swap_used_mb
        self._peak: TreesMemory | None = None
        self._sessions_at_peak = 0

    async def until_tripped(self) -> None:
        while self.tripped is None:
            await asyncio.to_thread(self.sample)
            if self.tripped is None:
                await asyncio.sleep(WATCH_INTERVAL_S)

    def sample(self) -> None:
        sessions = self._in_flight.sessions
        trees = self._machine.browsers()
        memory = self._machine.memory()
        self.swap_peak_mb = max(self.swap_peak_mb, memory.swap_used_mb)
        if trees.browsers and (self._peak is None or _size(trees) > _size(self._peak)):
            self._peak = trees
            self._sessions_at_peak = max(sessions, self._in_flight.sessions)
        if memory.available_mb < self._headroom_mb:
            self.tripped = self.tripped or StepEnd.MEMORY
        if memory.swap_used_mb - self._start.swap_used_mb > SWAP_GROWTH_TOLERANCE_MB:
            self.tripped = self.tripped or StepEnd.SWAP

    def peak(self) -> StepMemory | None:
        """None when no browser of this run was ever seen: unmeasurable, not zero."""
        if self._peak is None:
            return None
        return StepMemory(
            peak_rss_mb=self._peak.rss / _MB,
            peak_pss_mb=None if self._peak.pss is None else self._peak.pss / _MB,
            browsers_at_peak=self._peak.browsers,
            sessions_at_peak=self._sessions_at_peak,
        )


def _size(trees: TreesMemory) -> int:
    return trees.rss if trees.pss is None else trees.pss


def _header(plan: CapacityPlan, machine: Machine) -> dict[str, object]:
    memory = machine.memory()
    thresholds = plan.thresholds
    return {
        "qrbench_version": qrbench.__version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile_name": plan.profile.name,
        "scenario_name": plan.scenario.name,
        "plan": {
            "steps": [load.to_dict() for load in plan.steps],
            "sessions_per_step": plan.sessions_per_step,
            "warmup": plan.warmup,
            "headroom_percent": plan.headroom_percent,
            "criterion": {
                "target_ms": thresholds.target_ms,
                "percentile": thresholds.percentile,
                "min_success_percent": thresholds.min_success_percent,
            },
        },
        "machine": {
            "memory_total_mb": round(memory.total_mb),
            "swap_used_mb": round(memory.swap_used_mb),
        },
        "profile": profile_to_dict(plan.profile),
        "scenario": profile_to_dict(plan.scenario),
        "environment": environment.describe(plan.profile.browser.executable_path),
    }
