"""What `qrbench doctor` says: each check's name and, for each no, the fix."""

from typing import assert_never

from qrbench.measure.doctor import (
    Check,
    CheckName,
    Diagnosis,
    Status,
)


def fix(check: Check) -> str:
    """The one thing to do about a check that is not OK; empty when it is."""
    if check.status in (Status.OK, Status.SKIPPED):
        return ""
    if check.problem is not None:
        return check.problem
    match check.name:
        case CheckName.CPU:
            return "the machine is already busy: timings will be slower and noisier than idle"
        case CheckName.MEMORY:
            return "not even one session of the measured size fits in the memory available"
        case CheckName.REDIS:
            return "RemoteAuth falls back to SQLite: install redis-server for a real Redis"
        case (
            CheckName.SHM
            | CheckName.CHROMIUM
            | CheckName.LAUNCH
            | CheckName.NODE
            | CheckName.DRIVER
            | CheckName.PORTS
            | CheckName.ENDPOINTS
            | CheckName.LIVE
        ):
            return check.found
        case _:
            assert_never(check.name)


def mark(check: Check) -> str:
    match check.status:
        case Status.OK:
            return "ok"
        case Status.WARN:
            return "warn"
        case Status.FAIL:
            return "FAIL" if check.needed else "no (not needed)"
        case Status.SKIPPED:
            return "skipped"
        case _:
            assert_never(check.status)


def verdict(diagnosis: Diagnosis) -> str:
    missing = [c.name.value for c in diagnosis.checks if c.needed and c.status is Status.FAIL]
    subject = f"profile {diagnosis.profile} on engine {diagnosis.engine.value}"
    if not missing:
        return f"ready: this machine has everything {subject} needs"
    return f"not ready for {subject}: {', '.join(missing)} (fixes above)"
