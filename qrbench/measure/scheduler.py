"""How a run's sessions are started (docs/architecture.md).

Sequential today: each session starts when the one before it has finished. A scheduler
that keeps N sessions in flight, or starts them on an arrival schedule, takes the same
jobs; everything a session touches is keyed by its session id, not a shared slot.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

Job = Callable[[], Awaitable[None]]
"""One session, from its start to its record on disk."""


class Scheduler(Protocol):
    async def run(self, jobs: Iterable[Job]) -> None: ...


class Sequential:
    """One session at a time, in the order given."""

    async def run(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            await job()
