import time

import pytest

from qrbench.clock import SessionTimer, failed_stage_of

HARNESS_S = 0.2
# Room for float rounding between the two readings of one monotonic clock, nothing more.
FLOAT_MS = 0.01


def test_stages_are_recorded_in_order_on_one_clock() -> None:
    timer = SessionTimer()
    with timer.stage("first", critical=True):
        pass
    with timer.stage("second", critical=False):
        pass
    first, second = timer.stages
    assert (first.name, first.critical, first.ok) == ("first", True, True)
    assert (second.name, second.critical) == ("second", False)
    assert second.start_ms >= first.end_ms


def test_a_raising_stage_is_recorded_as_failed_and_reraised() -> None:
    timer = SessionTimer()
    with pytest.raises(ValueError) as raised, timer.stage("broken", critical=True):
        raise ValueError("boom")
    assert failed_stage_of(raised.value) == "broken"
    assert timer.stages[-1].ok is False


def test_the_innermost_stage_is_blamed() -> None:
    timer = SessionTimer()
    with (
        pytest.raises(ValueError) as raised,
        timer.stage("outer", critical=True),
        timer.stage("inner", critical=True),
    ):
        raise ValueError("boom")
    assert failed_stage_of(raised.value) == "inner"
    assert [s.ok for s in timer.stages] == [False, False]


def test_an_exception_from_outside_any_stage_blames_none() -> None:
    assert failed_stage_of(ValueError("boom")) is None


def test_end_at_closes_a_stage_at_an_event_stamped_elsewhere() -> None:
    timer = SessionTimer()
    with timer.stage("wait", critical=True, start_ms=100.0) as span:
        span.end_at(350.0)
    assert timer.stages[-1].start_ms == 100.0
    assert timer.stages[-1].duration_ms == 250.0


def test_critical_end_ignores_background_stages() -> None:
    timer = SessionTimer()
    with timer.stage("critical", critical=True, start_ms=0.0) as span:
        span.end_at(10.0)
    with timer.stage("background", critical=False, start_ms=10.0) as span:
        span.end_at(500.0)
    assert timer.critical_end_ms() == 10.0


def test_listener_hears_each_stage_start() -> None:
    heard: list[str] = []
    timer = SessionTimer(on_stage_start=heard.append)
    with timer.stage("a", critical=True):
        pass
    with timer.stage("b", critical=True):
        pass
    assert heard == ["a", "b"]


def test_harness_work_stops_the_session_clock() -> None:
    # Bounds come from the wall clock around each step, not constants: a loaded machine
    # stretches both clocks alike, but only the session clock may skip the harness's sleep.
    wall_started = time.monotonic()
    timer = SessionTimer()
    with timer.stage("browser_launch", critical=True):
        time.sleep(0.02)
        before_ms, wall_before = timer.now_ms(), time.monotonic()
        with timer.harness():
            time.sleep(HARNESS_S)  # e.g. qrbench setting up CDP emulation
        after_ms, wall_after = timer.now_ms(), time.monotonic()
    wall_ms = (time.monotonic() - wall_started) * 1000
    # The clock resumes where it stood, not HARNESS_S later.
    assert 0 <= after_ms - before_ms <= (wall_after - wall_before - HARNESS_S) * 1000 + FLOAT_MS
    (launch,) = timer.stages
    assert 20 - FLOAT_MS <= launch.duration_ms <= wall_ms - HARNESS_S * 1000 + FLOAT_MS
    assert timer.critical_end_ms() <= wall_ms - HARNESS_S * 1000 + FLOAT_MS
