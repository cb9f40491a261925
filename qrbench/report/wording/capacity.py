"""Sentences about a capacity ramp: its steps' loads, why it stopped, its knee, its refusal."""

from qrbench.analysis.capacity import (
    Capacity,
    CapacityCheck,
    CapacityStep,
    KneeStep,
    MemoryEstimate,
    Stop,
    StopReason,
)
from qrbench.analysis.summary import Verdict
from qrbench.config.load import Load
from qrbench.report.wording.numbers import format_ms


def load_label(load: Load) -> str:
    if load.arrival_rate_per_min is not None:
        return f"{load.arrival_rate_per_min:g}/min"
    return f"{load.concurrency} in flight"


def format_mb(value_mb: float) -> str:
    return f"{value_mb / 1024:,.1f} GB" if value_mb >= 1024 else f"{value_mb:,.0f} MB"


def capacity_label(capacity: float, unit: Capacity) -> str:
    label = f"{capacity:g} {unit.value}"
    return label.replace("sessions", "session", 1) if capacity == 1 else label


def _estimate(estimate: MemoryEstimate) -> str:
    source = "measured" if estimate.measured else "documented"
    return (
        f"it would need ~{format_mb(estimate.needed_mb)} ({estimate.in_flight} x "
        f"{estimate.per_session_mb:,.0f} MB a session, {source}) and "
        f"{format_mb(estimate.allowed_mb)} is left above the headroom"
    )


def criterion_broken(step: CapacityStep) -> str:
    """What in a step broke the criterion: its percentile, its success rate, or both."""
    judged = step.judgement
    reasons = []
    target = judged.target
    if target.value_ms is None:
        reasons.append("no session showed a QR")
    elif target.value_ms > target.target_ms:
        reasons.append(
            f"p{target.percentile:g} {format_ms(target.value_ms)} ms over the "
            f"{format_ms(target.target_ms)} ms target"
        )
    success = judged.success
    if success.measured and success.status is Verdict.FAIL:
        reasons.append(
            f"success {success.succeeded}/{success.measured} below {success.min_success_percent:g}%"
        )
    return " and ".join(reasons) or "too few sessions"


def stop_sentence(stop: Stop, steps: list[CapacityStep], headroom_percent: float) -> str:
    where = "" if stop.load is None else f"step {stop.step} ({load_label(stop.load)})"
    match stop.reason:
        case StopReason.CRITERION:
            step = steps[-1]
            return f"stopped: {where} broke the criterion: {criterion_broken(step)}"
        case StopReason.LAST_STEP:
            return (
                f"stopped: every step met the criterion up to the last, {where}; "
                "the machine may hold more"
            )
        case StopReason.MEMORY if stop.estimate is not None:
            return (
                f"stopped before {where}: {_estimate(stop.estimate)} "
                f"({headroom_percent:g}% of the memory is kept free)"
            )
        case StopReason.MEMORY:
            return (
                f"stopped: {where} was cut short: the memory available fell to the "
                f"{headroom_percent:g}% headroom"
            )
        case StopReason.SWAP:
            step = steps[-1]
            grown = step.swap_used_peak_mb - step.swap_used_start_mb
            return f"stopped: {where} was cut short: swap use grew by {grown:,.0f} MB"
    raise AssertionError(stop.reason)


def knee_sentence(knee: KneeStep | None) -> str:
    if knee is None:
        return "knee: none: the first step already missed the criterion"
    memory = (
        "memory per session unavailable (none of this run's browsers was visible, or its "
        "gateway runs outside qrbench)"
        if knee.per_session_mb is None
        else f"{knee.per_session_mb:,.0f} MB per session"
    )
    return f"knee: {capacity_label(knee.capacity, knee.unit)} (step {knee.step}), {memory}"


def refusal(estimate: MemoryEstimate, headroom_percent: float) -> str:
    """Why a ramp is refused before it starts."""
    return (
        f"the ramp's largest step does not fit in memory: {_estimate(estimate)} "
        f"({headroom_percent:g}% of the memory is kept free, --headroom); at most "
        f"{estimate.most_in_flight} sessions in flight fit: lower --max-concurrency or --steps"
    )


def capacity_check(check: CapacityCheck) -> str:
    if check.knee is None:
        found = "no step met the criterion"
    else:
        knee = check.knee
        found = f"knee {capacity_label(knee.capacity, knee.unit)} (step {knee.step})"
    relation = "at least" if check.status is Verdict.PASS else "below"
    return f"capacity: {found}, {relation} --min-capacity {check.min_capacity:g}"
