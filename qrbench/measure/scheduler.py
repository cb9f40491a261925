"""How a run's sessions are started (docs/architecture.md).

`Sequential` starts each session when the one before it has finished; `ClosedLoop(n)`
keeps n in flight; `OpenLoop(rate, seed)` starts them on a seeded Poisson schedule
whether or not earlier ones finished, so a system that slows down under load cannot hold
back the load that reveals it (coordinated omission). They all take the same jobs:
everything a session touches is keyed by its session id, not a shared slot.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Start:
    """When the scheduler meant a session to start and when it did (`time.monotonic()`
    seconds): an open loop's lateness is the difference."""

    scheduled: float
    actual: float


Job = Callable[[Start], Awaitable[None]]
"""One session, from its start to its record on disk."""


class Scheduler(Protocol):
    async def run(self, jobs: Iterable[Job]) -> None: ...


class Sequential:
    """One session at a time, in the order given."""

    async def run(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            now = time.monotonic()
            await job(Start(scheduled=now, actual=now))


class ClosedLoop:
    """`sessions` in flight: each one that finishes lets the next one start."""

    def __init__(self, sessions: int) -> None:
        if sessions < 1:
            raise ValueError(f"a closed loop needs at least 1 session in flight (got {sessions})")
        self.sessions = sessions

    async def run(self, jobs: Iterable[Job]) -> None:
        async with _Flight() as flight:
            for job in jobs:
                while len(flight) >= self.sessions:
                    await flight.wait(until_one_finished=True)
                flight.start(job, time.monotonic())
            await flight.wait()


class OpenLoop:
    """Sessions arrive at `rate_per_min` on average, as a Poisson process drawn from `seed`:
    the first at once, then after exponentially distributed gaps, in flight or not."""

    def __init__(self, rate_per_min: float, seed: int) -> None:
        if not rate_per_min > 0:
            raise ValueError(f"an arrival rate must be above 0 per minute (got {rate_per_min})")
        self.rate_per_min = rate_per_min
        self.seed = seed

    def offsets(self) -> Iterator[float]:
        """Seconds from the load's start at which the sessions are due, in order."""
        draws = random.Random(self.seed)
        offset = 0.0
        while True:
            yield offset
            offset += draws.expovariate(self.rate_per_min / 60.0)

    async def run(self, jobs: Iterable[Job]) -> None:
        origin = time.monotonic()
        async with _Flight() as flight:
            for job, offset in zip(jobs, self.offsets(), strict=False):
                due = origin + offset
                # Sessions that finish (or fail) meanwhile are collected while waiting.
                while (left := due - time.monotonic()) > 0:
                    await flight.wait(timeout=left)
                flight.start(job, due)
            await flight.wait()


class _Flight:
    """The sessions in flight, each its own task.

    Leaving it with an error (a session that could not write its results) or a
    cancellation (Ctrl-C) cancels every session still in flight and waits for them, so
    each closes its browser and records what it finished before the error propagates.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, job: Job, scheduled: float) -> None:
        self._tasks.add(asyncio.create_task(_started(job, scheduled)))

    async def wait(self, *, timeout: float | None = None, until_one_finished: bool = False) -> None:
        """Until every session finished, or one did (`until_one_finished`), or `timeout`
        seconds passed; raises the first failure of a session that finished."""
        if not self._tasks:
            if timeout is not None:
                await asyncio.sleep(timeout)
            return
        when = asyncio.FIRST_COMPLETED if until_one_finished else asyncio.FIRST_EXCEPTION
        done, self._tasks = await asyncio.wait(self._tasks, timeout=timeout, return_when=when)
        for task in done:
            # Only leaving the flight cancels a session, so a cancelled one is no failure.
            if not task.cancelled() and (failure := task.exception()) is not None:
                raise failure

    async def __aenter__(self) -> "_Flight":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._tasks:
            task.cancel()
        # The sessions' own cancellations are expected here; the error that left the
        # block (or the scheduler's cancellation) is the one that propagates.
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _started(job: Job, scheduled: float) -> None:
    await job(Start(scheduled=scheduled, actual=time.monotonic()))
