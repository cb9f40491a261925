"""The capacity ramp with a fake engine, provider and machine: steps, knee, stops, file."""

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

from qrbench.analysis.capacity import Capacity, StepEnd, StopReason
from qrbench.capacity_results import read_capacity
from qrbench.config.load import Load
from qrbench.errors import ConfigError
from qrbench.measure import capacity
from qrbench.measure.capacity import (
    check_plan,
    largest_step_estimate,
    ramp,
)
from qrbench.measure.runner import Machinery
from qrbench.results import RunStatus
from tests.fakes import (
    Act,
    FakeEngines,
    FakeMachine,
    FakeProvider,
    RecordingRampListener,
    capacity_plan_for,
    run_fake_ramp,
)

# Each open browser adds this to every session's qr_wait. A browser stays open past its
# session's QR (verify, webhook, close), so 2 in flight see 2 to 4 open: ~60 to 120 ms;
# 16 in flight at least 16: ~480 ms and more.
PER_OPEN_BROWSER_S = 0.03
# Between the two, with room for a busy machine either side.
TARGET_MS = 280.0


@pytest.fixture(autouse=True)
def watch_often(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake step lasts a fraction of a second; Chromium's last seconds.
    monkeypatch.setattr(capacity, "WATCH_INTERVAL_S", 0.005)


def loaded_engines() -> FakeEngines:
    return FakeEngines(seconds_per_open_browser=PER_OPEN_BROWSER_S)


def test_the_ramp_stops_at_the_step_that_breaks_p95_and_the_knee_is_the_step_before(
    tmp_path: Path,
) -> None:
    plan = capacity_plan_for(tmp_path, [1, 2, 16, 32], sessions=16, target_ms=TARGET_MS)
    provider = FakeProvider()
    listener = RecordingRampListener()
    outcome = run_fake_ramp(plan, loaded_engines(), provider, FakeMachine(provider), listener)

    assert [step.load.concurrency for step in outcome.steps] == [1, 2, 16]
    assert [step.meets for step in outcome.steps] == [True, True, False]
    assert outcome.stop.reason is StopReason.CRITERION and outcome.stop.step == 3
    assert outcome.knee is not None and outcome.knee.capacity == 2
    # The step of 16 had its 16 sessions in flight at once; 32 never started.
    assert provider.most_open == 16 and provider.open_browsers == []
    broken = outcome.steps[-1].judgement
    assert broken.target.value_ms is not None and broken.target.value_ms > TARGET_MS
    assert broken.success.succeeded == 16
    # The one warmup ran before the first step only: 16 measured + 1, then 16 a step.
    assert provider.launched == 17 + 16 * 2
    for step in outcome.steps:
        assert step.judgement.sessions == 16
        assert step.cpu_percent == 42.0
        assert step.memory is not None
        # PSS at the peak over the browsers open then, not RSS.
        assert step.memory.per_session_mb == pytest.approx(300.0)
        assert step.memory.peak_rss_mb > step.memory.peak_pss_mb  # type: ignore[operator]
    assert outcome.knee.per_session_mb == pytest.approx(300.0)
    steps_heard = [event for event in listener.events if event[0] == "step"]
    assert steps_heard == [("step", n, {"concurrency": c}, 16) for n, c in enumerate([1, 2, 16], 1)]


def test_every_step_is_in_the_file_with_its_sessions_in_a_results_file_of_its_own(
    tmp_path: Path,
) -> None:
    plan = capacity_plan_for(tmp_path, [1, 2])
    provider = FakeProvider()
    run_fake_ramp(plan, loaded_engines(), provider, FakeMachine(provider))

    document = json.loads(plan.results_path.read_text())
    assert document["schema_version"] == 1 and document["kind"] == "capacity"
    assert document["status"] == "complete"
    assert document["stop"]["reason"] == "last step"
    assert document["plan"]["steps"] == [{"concurrency": 1}, {"concurrency": 2}]
    assert document["plan"]["criterion"]["target_ms"] == 10_000
    first, second = document["steps"]
    assert first["sessions"] == second["sessions"] == 10
    assert first["meets_criterion"] and second["meets_criterion"]
    assert first["memory"]["per_session_mb"] == 300.0
    assert first["time_to_qr_percentile"] == 95
    p50, high = first["time_to_qr_p50_ms"], first["time_to_qr_percentile_ms"]
    assert p50["ci_low"] <= p50["value"] <= p50["ci_high"]
    # Ten sessions bound p95 from below only.
    assert high["ci_low"] <= high["value"] and high["ci_high"] is None
    assert document["knee"] == {
        "step": 2,
        "capacity": 2,
        "unit": "sessions in flight",
        "per_session_mb": 300.0,
    }
    step_file = json.loads(Path(second["results_file"]).read_text())
    assert step_file["plan"] == {"runs": 10, "warmup": 0, "concurrency": 2}
    assert len(step_file["sessions"]) == 10
    saved = read_capacity(plan.results_path)
    assert saved.knee is not None and saved.knee.capacity == 2 and saved.steps == 2


def test_a_step_that_fails_sessions_breaks_the_success_criterion(tmp_path: Path) -> None:
    plan = capacity_plan_for(tmp_path, [1, 2, 4])
    # Session numbers count within a step's run: the second step's fourth session times out.
    engines = FakeEngines(script={(4, 1): Act.TIME_OUT})
    provider = FakeProvider()
    outcome = run_fake_ramp(plan, engines, provider, FakeMachine(provider))

    # Step 1 has a warmup (number 1), so its fourth session is a measured one too.
    assert outcome.steps[0].judgement.succeeded == 9
    assert outcome.stop.reason is StopReason.CRITERION and outcome.stop.step == 1
    assert outcome.knee is None


def test_a_step_that_would_not_fit_above_the_headroom_is_not_started(tmp_path: Path) -> None:
    # 4,000 MB free above a 0 % headroom: 8 browsers of 300 MB (2,400) fit, 16 do not.
    plan = capacity_plan_for(tmp_path, [8, 16], headroom=0.0)
    provider = FakeProvider()
    machine = FakeMachine(provider, free_mb=4_000.0)
    outcome = run_fake_ramp(plan, FakeEngines(), provider, machine)

    assert [step.load.concurrency for step in outcome.steps] == [8]
    assert outcome.stop.reason is StopReason.MEMORY and outcome.stop.step == 2
    estimate = outcome.stop.estimate
    assert estimate is not None and estimate.measured
    assert estimate.needed_mb == pytest.approx(16 * 300.0) and not estimate.fits
    assert provider.most_open == 8
    document = json.loads(plan.results_path.read_text())
    assert document["stop"]["reason"] == "memory"
    assert document["stop"]["estimate"]["needed_mb"] == 4800.0
    assert document["knee"]["capacity"] == 8


def test_a_step_that_runs_into_the_headroom_is_cut_short_and_its_browsers_closed(
    tmp_path: Path,
) -> None:
    # The documented 360 MB a session says 4 fit in 1,500 MB free; at 500 MB each they do not.
    plan = capacity_plan_for(tmp_path, [4], headroom=0.0)
    provider = FakeProvider()
    machine = FakeMachine(provider, free_mb=1_500.0, per_browser_mb=500.0)
    engines = FakeEngines(script={(number, 1): Act.SLOW for number in range(1, 12)})
    outcome = run_fake_ramp(plan, engines, provider, machine)

    (step,) = outcome.steps
    assert step.end is StepEnd.MEMORY and not step.meets
    assert step.judgement.sessions < 10
    assert outcome.stop.reason is StopReason.MEMORY
    assert provider.open_browsers == []
    assert engines.closed == provider.launched
    step_file = json.loads(Path(step.results_path).read_text())
    assert step_file["status"] == "interrupted"


def test_swap_growing_during_a_step_stops_the_ramp(tmp_path: Path) -> None:
    plan = capacity_plan_for(tmp_path, [1, 2, 4])
    provider = FakeProvider()
    engines = FakeEngines(script={(number, 1): Act.SLOW for number in range(1, 12)})
    machine = FakeMachine(provider, swap_after_browsers=1)
    outcome = run_fake_ramp(plan, engines, provider, machine)

    assert [step.end for step in outcome.steps] == [StepEnd.COMPLETE, StepEnd.SWAP]
    assert outcome.stop.reason is StopReason.SWAP and outcome.stop.step == 2
    assert outcome.steps[1].swap_used_peak_mb > outcome.steps[1].swap_used_start_mb
    assert outcome.knee is not None and outcome.knee.capacity == 1
    assert provider.open_browsers == []


def test_cancelling_keeps_the_finished_steps_and_leaves_no_browser_open(tmp_path: Path) -> None:
    # No background webhook: a session cancelled while awaiting one is closed by the
    # runner's reaping (real Chromium), which the fake provider only records.
    profile = "extends: optimized\nwebhook:\n  mode: 'off'\n"
    plan = capacity_plan_for(tmp_path, [1, 2], profile_yaml=profile)
    provider = FakeProvider()
    engines = FakeEngines()

    async def cancel_in_step_two() -> None:
        machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
        listener = RecordingRampListener()
        task = asyncio.create_task(ramp(plan, listener, machinery, FakeMachine(provider)))
        while ("step", 2, {"concurrency": 2}, 10) not in listener.events:
            await asyncio.sleep(0.01)
        # Session numbers count within a step's run: step two's third session hangs.
        engines.script[(3, 1)] = Act.HANG
        await engines.hang_started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancel_in_step_two(), 20))

    document = json.loads(plan.results_path.read_text())
    assert document["status"] == RunStatus.INTERRUPTED.value
    assert [step["number"] for step in document["steps"]] == [1]
    assert provider.open_browsers == []
    assert engines.closed == provider.launched
    step_two = json.loads(plan.step_path(2).read_text())
    assert step_two["status"] == "interrupted"


def test_cancelled_before_a_step_finished_leaves_no_file(tmp_path: Path) -> None:
    plan = capacity_plan_for(tmp_path, [1, 2])
    provider = FakeProvider()
    engines = FakeEngines(script={(1, 1): Act.HANG})

    async def cancel_in_step_one() -> None:
        machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
        listener = RecordingRampListener()
        task = asyncio.create_task(ramp(plan, listener, machinery, FakeMachine(provider)))
        await engines.hang_started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancel_in_step_one(), 20))
    assert not plan.results_path.exists()


@pytest.mark.parametrize(
    ("steps", "sessions", "message"),
    [
        ([1, 2], 9, "at least 10"),
        ([], 10, "at least one step"),
        ([0, 1], 10, "above 0"),
        ([2, 2], 10, "must increase"),
        ([4, 2], 10, "must increase"),
    ],
)
def test_a_ramp_that_cannot_be_judged_is_refused(
    tmp_path: Path, steps: list[int], sessions: int, message: str
) -> None:
    plan = capacity_plan_for(tmp_path, steps, sessions=sessions)
    with pytest.raises(ConfigError, match=message):
        check_plan(plan)


def test_a_lower_minimum_is_only_for_whoever_calls_the_core(tmp_path: Path) -> None:
    check_plan(capacity_plan_for(tmp_path, [1, 2], sessions=2), min_sessions_per_step=2)


def test_the_largest_step_is_estimated_at_the_documented_figure(tmp_path: Path) -> None:
    plan = capacity_plan_for(tmp_path, [1, 500], headroom=20.0)
    provider = FakeProvider()
    estimate = largest_step_estimate(plan, FakeMachine(provider, free_mb=23_000.0))
    assert estimate.in_flight == 500 and not estimate.measured
    assert estimate.needed_mb == pytest.approx(500 * 360.0)
    assert estimate.allowed_mb == pytest.approx(23_000.0 - 0.2 * 24_000.0)
    assert not estimate.fits and estimate.most_in_flight == 50


def test_memory_per_session_is_shared_by_the_sessions_a_warm_pool_serves(
    tmp_path: Path,
) -> None:
    # Two pooled browsers hold every session's context: 300 MB a session, not 4 x 300 / 2.
    provider = FakeProvider()
    machine = FakeMachine(provider, per_browser_mb=300.0, pool_browsers=2)
    plan = capacity_plan_for(tmp_path, [4], sessions=10, warmup=0)

    outcome = run_fake_ramp(plan, loaded_engines(), provider, machine)

    [step] = outcome.steps
    assert step.memory is not None and step.memory.browsers_at_peak == 2
    assert step.memory.sessions_at_peak == 4
    assert step.memory.per_session_mb == pytest.approx(300.0)
    document = json.loads(plan.results_path.read_text())
    assert document["steps"][0]["memory"]["sessions_at_peak"] == 4


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_tiny_ramp_on_real_chromium_measures_each_steps_trees(tmp_path: Path) -> None:
    # Two sessions a step: below the CLI's minimum, which only the core lets a test lower.
    plan = capacity_plan_for(tmp_path, [1, 2], sessions=2, warmup=0)
    listener = RecordingRampListener()
    outcome = asyncio.run(ramp(plan, listener, min_sessions_per_step=2))

    assert [step.judgement.sessions for step in outcome.steps] == [2, 2]
    assert all(step.judgement.succeeded == 2 for step in outcome.steps)
    one, two = outcome.steps
    assert one.memory is not None and two.memory is not None
    # The step of 1 never had two browsers; the step of 2 had at most two.
    assert one.memory.browsers_at_peak == 1
    assert 1 <= two.memory.browsers_at_peak <= 2
    assert one.memory.sessions_at_peak == 1
    assert 1 <= two.memory.sessions_at_peak <= 2
    for memory in (one.memory, two.memory):
        # Chromium's processes share pages: their PSS sum is below their RSS sum.
        assert memory.peak_pss_mb is not None and 0 < memory.peak_pss_mb < memory.peak_rss_mb
        assert memory.per_session_mb is not None and 20 < memory.per_session_mb < 2000
    assert 0 <= one.cpu_percent <= 100
    document = json.loads(plan.results_path.read_text())
    assert document["status"] == "complete" and len(document["steps"]) == 2
    assert [event[:2] for event in listener.events if event[0] == "step done"] == [
        ("step done", 1),
        ("step done", 2),
    ]


def test_an_arrival_rate_ramp_steps_through_its_rates_and_its_knee_is_per_minute(
    tmp_path: Path,
) -> None:
    rates = (Load(arrival_rate_per_min=600, seed=1), Load(arrival_rate_per_min=1200, seed=1))
    plan = dataclasses.replace(capacity_plan_for(tmp_path, [1]), steps=rates)
    provider = FakeProvider()
    outcome = run_fake_ramp(plan, FakeEngines(), provider, FakeMachine(provider))

    assert [step.load for step in outcome.steps] == list(rates)
    assert outcome.stop.reason is StopReason.LAST_STEP
    assert outcome.knee is not None and outcome.knee.capacity == 1200
    assert outcome.knee.unit is Capacity.ARRIVAL_RATE
    document = json.loads(plan.results_path.read_text())
    assert document["steps"][1]["load"] == {"arrival_rate_per_min": 1200, "seed": 1}
    step_file = json.loads(plan.step_path(2).read_text())
    assert step_file["plan"]["arrival_rate_per_min"] == 1200
