"""Which fault, if any, strikes an attempt: drawn from the scenario's seeded probabilities.

The mechanisms live where the fault happens: the replica hangs or cuts its socket, stalls
a bundle or answers 500 (qrbench.world.replica.server); the session kills its own Chromium
(qrbench.engines.model.session). Here is only the draw, so every part agrees on the pattern.
"""

import random
from enum import StrEnum
from typing import assert_never

from qrbench.config.models import Faults


class Fault(StrEnum):
    HANG = "hang"
    DROP = "drop"
    BUNDLE_STALL = "bundle_stall"
    HTTP_500 = "http_500"
    BROWSER_CRASH = "browser_crash"


def probability(faults: Faults, fault: Fault) -> float:
    match fault:
        case Fault.HANG:
            return faults.hang
        case Fault.DROP:
            return faults.drop
        case Fault.BUNDLE_STALL:
            return faults.bundle_stall
        case Fault.HTTP_500:
            return faults.http_500
        case Fault.BROWSER_CRASH:
            return faults.browser_crash
        case _:
            assert_never(fault)


def draw(faults: Faults, session_number: int, attempt: int) -> Fault | None:
    """The fault of one attempt of one session; the same arguments give the same fault.

    Each (seed, session, attempt) gets its own generator rather than one stream for the
    run, so warmup count, retries or another profile's failures never shift the pattern.
    """
    roll = random.Random(f"{faults.seed}:{session_number}:{attempt}").random()
    threshold = 0.0
    for fault in Fault:
        threshold += probability(faults, fault)
        if roll < threshold:
            return fault
    return None
