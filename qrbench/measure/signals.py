"""Run the async core from the synchronous CLI, turning SIGINT/SIGTERM into cancellation.

Cancellation (not an exception thrown at a random line) lets every `finally` close its
browser, stop its servers and write its results before qrbench exits.

A cancellation some library swallowed still stops the run at its next step
(`qrbench.cancellation`), and a signal recorded while the task still returned raises
`Interrupted`.
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
