"""Run the async core from the synchronous CLI, turning SIGINT/SIGTERM into cancellation.

Cancellation (not an exception thrown at a random line) lets every `finally` close its
browser, stop its servers and write its results before qrbench exits.

Some libraries swallow a cancellation (a Redis client caught mid-command). The task's
count of cancel requests (`Task.cancelling()`) still says it was asked to stop: the run
calls `stop_if_asked()` between its steps, so such a library delays the stop by one step
at most, and a signal recorded while the task still returned raises `Interrupted`.
"""

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Interrupted(Exception):
    """The user (or the system) asked qrbench to stop."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def stop_if_asked() -> None:
    """Raise CancelledError if this task was cancelled, even when the cancellation was
    swallowed on the way; call it between steps of long work."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def run_until_signalled(coro: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    received: list[str] = []

    def stop(sig: signal.Signals) -> None:
        received.append(sig.name)
        task.cancel()

    # The loop's handlers replace whatever the program had (e.g. Python's KeyboardInterrupt);
    # that comes back afterwards, not the default the loop would leave.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        loop.add_signal_handler(sig, stop, sig)
    try:
        result = loop.run_until_complete(task)
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    # Work that swallowed its cancellation still finished after the user asked to stop:
    # a finished run must not pass for an uninterrupted one.
    if received:
        raise Interrupted(received[0])
    return result
