"""The service's add-account call: attempts of one session, retried as the profile says.

With `retry.attempts` above 1 the service tears a failed client down and initialises it
again. The user waits through all of it, so one monotonic clock spans the attempts and
the session's record is the last attempt's, moved onto that clock: the time-to-QR of a
retried session includes everything the failed attempts cost.
"""

import dataclasses
import time
from collections.abc import Callable

from qrbench.clock import SessionTimer
from qrbench.config.models import Faults, Profile
from qrbench.engines.base import EngineFactory, PreparedSession, SessionSetup
from qrbench.engines.handler.session import run_session
from qrbench.records import AttemptRecord, SessionError, SessionResult, within_deadline
from qrbench.world import faults
from qrbench.world.replica.server import REPLICA_FAULTS


async def run_attempts(
    setup: SessionSetup,
    engine: EngineFactory,
    session_id: str,
    *,
    number: int,
    warmup: bool,
    workspace_id: int,
    scenario_faults: Faults,
    on_stage_start: Callable[[str], None] | None = None,
) -> SessionResult:
    """Attempts until one shows a QR or `retry.attempts` have failed."""
    origin = time.monotonic()
    records: list[AttemptRecord] = []
    try:
        for attempt in range(1, setup.profile.retry.attempts + 1):
            fault = faults.draw(scenario_faults, number, attempt)
            if setup.replica is not None:
                setup.replica.arm(session_id, fault if fault in REPLICA_FAULTS else None)
            start_ms = _since(origin)
            session = PreparedSession(setup, session_id, SessionTimer(on_stage_start), fault)
            result = await run_session(
                session, engine, number=number, warmup=warmup, workspace_id=workspace_id
            )
            records.append(
                AttemptRecord(
                    number=attempt,
                    start_ms=round(start_ms, 1),
                    duration_ms=round(_since(origin) - start_ms, 1),
                    fault=_struck(fault, setup, session_id),
                    error=None if result.error is None else _later(result.error, start_ms),
                )
            )
            if result.ok:
                break
    finally:
        if setup.replica is not None:
            setup.replica.disarm(session_id)
    return _on_session_clock(result, start_ms, records, setup.profile)


def _struck(fault: faults.Fault | None, setup: SessionSetup, session_id: str) -> str | None:
    """The drawn fault if it reached this attempt; a page fault the page never asked for
    (an index 500 behind a cached index) did not."""
    if fault is None:
        return None
    if fault in REPLICA_FAULTS and not (
        setup.replica is not None and setup.replica.fault_met(session_id)
    ):
        return None
    return fault.value


def _since(origin: float) -> float:
    return (time.monotonic() - origin) * 1000.0


def _on_session_clock(
    last: SessionResult, offset_ms: float, records: list[AttemptRecord], profile: Profile
) -> SessionResult:
    """The last attempt's record with every time moved `offset_ms` later."""
    time_to_qr_ms = _shifted(last.time_to_qr_ms, offset_ms)
    return dataclasses.replace(
        last,
        time_to_qr_ms=time_to_qr_ms,
        qr_delivered_ms=_shifted(last.qr_delivered_ms, offset_ms),
        time_to_ready_ms=_shifted(last.time_to_ready_ms, offset_ms),
        within_deadline=within_deadline(time_to_qr_ms, profile),
        error=None if last.error is None else _later(last.error, offset_ms),
        stages=[
            dataclasses.replace(stage, start_ms=stage.start_ms + offset_ms) for stage in last.stages
        ],
        background_errors=[_later(error, offset_ms) for error in last.background_errors],
        spans=[
            dataclasses.replace(span, start_ms=span.start_ms + offset_ms) for span in last.spans
        ],
        attempts=records,
    )


def _shifted(value_ms: float | None, offset_ms: float) -> float | None:
    return None if value_ms is None else round(value_ms + offset_ms, 1)


def _later(error: SessionError, offset_ms: float) -> SessionError:
    return dataclasses.replace(error, elapsed_ms=round(error.elapsed_ms + offset_ms, 1))
