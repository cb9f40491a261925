"""The schedulers on their own: plain jobs, no runner, no engine."""

import asyncio
import itertools

import pytest

from qrbench.measure.scheduler import ClosedLoop, Job, OpenLoop, Scheduler, Sequential, Start

# Generous: a scheduler that waits where it must not deadlocks these tests; this bounds that.
DEADLOCK_S = 10.0


def test_the_sequential_scheduler_starts_each_job_after_the_last_one_finished() -> None:
    log: list[str] = []

    def job(name: str) -> Job:
        async def work(start: Start) -> None:
            log.append(f"start {name}")
            await asyncio.sleep(0)
            log.append(f"end {name}")

        return work

    asyncio.run(Sequential().run(job(name) for name in "abc"))
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]


class Counting:
    """Jobs that count how many of them are in flight; each waits for `release` to go."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.finished = 0
        self.starts: list[Start] = []
        self.release = asyncio.Event()

    def job(self) -> Job:
        async def work(start: Start) -> None:
            self.starts.append(start)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            try:
                await self.release.wait()
            finally:
                self.in_flight -= 1
                self.finished += 1

        return work


def test_a_closed_loop_keeps_n_in_flight_and_never_more() -> None:
    async def scenario() -> Counting:
        counting = Counting()
        jobs = [counting.job() for _ in range(7)]
        task = asyncio.create_task(ClosedLoop(3).run(jobs))
        # Three start without any finishing: the loop does not wait for one to end first.
        while counting.in_flight < 3:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert counting.in_flight == 3 and len(counting.starts) == 3
        counting.release.set()
        await asyncio.wait_for(task, DEADLOCK_S)
        return counting

    counting = asyncio.run(asyncio.wait_for(scenario(), DEADLOCK_S))
    assert counting.most == 3
    assert counting.finished == 7


def test_the_open_loop_schedule_is_seeded_and_averages_the_rate() -> None:
    def first(seed: int, count: int) -> list[float]:
        return list(itertools.islice(OpenLoop(120, seed).offsets(), count))

    assert first(7, 5) == first(7, 5)
    assert first(7, 5) != first(8, 5)
    offsets = first(7, 2000)
    assert offsets[0] == 0 and offsets == sorted(offsets)
    # 120 a minute is one every 0.5 s on average; 2000 gaps put the mean well within 10 %.
    mean_gap = offsets[-1] / (len(offsets) - 1)
    assert mean_gap == pytest.approx(0.5, rel=0.1)


def test_an_open_loop_starts_on_schedule_without_waiting_for_slow_sessions() -> None:
    scheduler = OpenLoop(600, seed=11)  # a session every 0.1 s on average
    expected = list(itertools.islice(scheduler.offsets(), 5))

    async def scenario() -> Counting:
        counting = Counting()
        jobs = [counting.job() for _ in range(5)]
        task = asyncio.create_task(scheduler.run(jobs))
        # No session finishes until all five started: a loop that waited would stall here.
        while len(counting.starts) < 5:
            await asyncio.sleep(0.01)
        counting.release.set()
        await task
        return counting

    counting = asyncio.run(asyncio.wait_for(scenario(), DEADLOCK_S))
    assert counting.most == 5
    origin = counting.starts[0].scheduled
    scheduled = [start.scheduled - origin for start in counting.starts]
    assert scheduled == pytest.approx(expected, abs=1e-6)
    # A session starts when it is due or after, never before.
    assert all(start.actual >= start.scheduled for start in counting.starts)


@pytest.mark.parametrize(
    "scheduler", [ClosedLoop(3), OpenLoop(6000, seed=1)], ids=["closed", "open"]
)
def test_cancelling_the_scheduler_cancels_every_session_in_flight(scheduler: Scheduler) -> None:
    async def scenario() -> Counting:
        counting = Counting()
        jobs = [counting.job() for _ in range(3)]
        task = asyncio.create_task(scheduler.run(jobs))
        while counting.in_flight < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return counting

    counting = asyncio.run(asyncio.wait_for(scenario(), DEADLOCK_S))
    # Every session's own cleanup ran before the scheduler gave up.
    assert counting.in_flight == 0 and counting.finished == 3


def test_a_session_that_raises_stops_the_others_and_its_error_propagates() -> None:
    counting = Counting()

    async def broken(start: Start) -> None:
        await asyncio.sleep(0.01)
        raise OSError("the results file cannot be written")

    async def scenario() -> None:
        jobs = [counting.job(), broken, counting.job(), counting.job()]
        await ClosedLoop(2).run(jobs)

    with pytest.raises(OSError, match="cannot be written"):
        asyncio.run(asyncio.wait_for(scenario(), DEADLOCK_S))
    assert counting.in_flight == 0


@pytest.mark.parametrize("make", [lambda: ClosedLoop(0), lambda: OpenLoop(0, seed=1)])
def test_a_scheduler_refuses_a_load_of_nothing(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
