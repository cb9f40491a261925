"""How a ramp's stop, knee and refusal read."""

from qrbench.analysis.capacity import (
    Capacity,
    CapacityCheck,
    KneeStep,
    MemoryEstimate,
    StepEnd,
    Stop,
    StopReason,
)
from qrbench.config.load import Load
from qrbench.report.wording.capacity import (
    capacity_check,
    criterion_broken,
    knee_sentence,
    load_label,
    refusal,
    stop_sentence,
)
from tests.helpers import capacity_step

FOUR = Load(concurrency=4)


def test_a_broken_step_says_which_part_of_the_criterion_it_broke() -> None:
    slow = capacity_step(3, FOUR, [1000.0] * 18 + [12_000.0, 13_000.0])
    assert criterion_broken(slow).startswith("p95 12,") and "over the 10,000 ms target" in (
        criterion_broken(slow)
    )
    failing = capacity_step(3, FOUR, [1000.0] * 18 + [None, None])
    assert criterion_broken(failing) == "success 18/20 below 98%"
    assert criterion_broken(capacity_step(3, FOUR, [None] * 5)) == (
        "no session showed a QR and success 0/5 below 98%"
    )
    stop = Stop(StopReason.CRITERION, 3, FOUR)
    assert stop_sentence(stop, [slow], 20).startswith(
        "stopped: step 3 (4 in flight) broke the criterion: p95"
    )


def test_each_other_stop_reads_as_what_happened() -> None:
    last = Stop(StopReason.LAST_STEP, 2, FOUR)
    assert "every step met the criterion up to the last, step 2 (4 in flight)" in stop_sentence(
        last, [], 20
    )
    estimate = MemoryEstimate(
        in_flight=16, per_session_mb=300.0, measured=True, available_mb=5000.0, headroom_mb=1000.0
    )
    before = Stop(StopReason.MEMORY, 5, Load(concurrency=16), estimate)
    assert stop_sentence(before, [], 20) == (
        "stopped before step 5 (16 in flight): it would need ~4.7 GB (16 x 300 MB a session, "
        "measured) and 3.9 GB is left above the headroom (20% of the memory is kept free)"
    )
    cut = Stop(StopReason.MEMORY, 2, FOUR)
    assert "cut short: the memory available fell to the 20% headroom" in stop_sentence(cut, [], 20)
    swapped = capacity_step(2, FOUR, [1000.0] * 3, end=StepEnd.SWAP, swap_used_peak_mb=120.0)
    swap = Stop(StopReason.SWAP, 2, FOUR)
    assert stop_sentence(swap, [swapped], 20).endswith("cut short: swap use grew by 120 MB")


def test_the_knee_names_its_unit_and_memory_or_that_there_is_none() -> None:
    knee = KneeStep(step=2, capacity=4, unit=Capacity.CONCURRENCY, per_session_mb=312.4)
    assert knee_sentence(knee) == "knee: 4 sessions in flight (step 2), 312 MB per session"
    one = KneeStep(step=1, capacity=1, unit=Capacity.CONCURRENCY, per_session_mb=None)
    assert knee_sentence(one).startswith("knee: 1 session in flight (step 1), memory per session")
    assert "unavailable" in knee_sentence(one)
    assert knee_sentence(None).startswith("knee: none")
    rate = KneeStep(step=1, capacity=30, unit=Capacity.ARRIVAL_RATE, per_session_mb=None)
    assert capacity_check(CapacityCheck(min_capacity=40, knee=rate)) == (
        "capacity: knee 30 sessions per minute (step 1), below --min-capacity 40"
    )
    assert load_label(Load(arrival_rate_per_min=12.5)) == "12.5/min"


def test_a_refusal_gives_the_estimate_and_what_fits() -> None:
    estimate = MemoryEstimate(
        in_flight=500,
        per_session_mb=360.0,
        measured=False,
        available_mb=23_000.0,
        headroom_mb=4_800.0,
    )
    assert refusal(estimate, 20) == (
        "the ramp's largest step does not fit in memory: it would need ~175.8 GB (500 x 360 MB "
        "a session, documented) and 17.8 GB is left above the headroom (20% of the memory is "
        "kept free, --headroom); at most 50 sessions in flight fit: lower --max-concurrency or "
        "--steps"
    )
