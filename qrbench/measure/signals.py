"""Run the async core from the synchronous CLI, turning SIGINT/SIGTERM into cancellation.

Cancellation (not an exception thrown at a random line) lets every `finally` close its
browser, stop its servers and write its results before qrbench exits.
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


def run_until_signalled(coro: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    received: list[str] = []

    def stop(sig: signal.Signals) -> None:
        received.append(sig.name)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    try:
        result = loop.run_until_complete(task)
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    # Work that swallowed its cancellation still finished after the user asked to stop:
    # a finished run must not pass for an uninterrupted one.
    if received:
        raise Interrupted(received[0])
    return result
