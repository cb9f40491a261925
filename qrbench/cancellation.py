"""Cancellation that a library swallowed still counts.

Some libraries swallow a cancellation (a Redis client caught mid-command). The task's
count of cancel requests (`Task.cancelling()`) still says it was asked to stop: the run
checks between sessions and a session's timer at every stage it starts, so such a library
delays a stop by the rest of one stage at most.
"""

import asyncio


def stop_if_asked() -> None:
    """Raise CancelledError if this task was cancelled, even when the cancellation was
    swallowed on the way; call it between steps of long work."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop: synchronous work has nothing to cancel
        return
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
