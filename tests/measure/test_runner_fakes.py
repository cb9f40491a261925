"""The runner, its attempts, scheduler and Ctrl-C handling, with a fake engine and provider.

No Chromium: the replica, receiver and gateway DB are real; the engine's work is scripted.
"""

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path

import pytest

from qrbench.config.loader import load_scenario
from qrbench.errors import EnvironmentProblem
from qrbench.measure.runner import Machinery, RunOutcome, RunPlan, run, run_interleaved
from qrbench.measure.signals import Interrupted, run_until_signalled
from tests.fakes import Act, FakeEngines, FakeProvider, cancel_when_hanging, plan_for, run_fake
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import RecordingListener


def test_sessions_run_in_order_and_each_is_on_disk_when_it_finishes(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3, warmup=1)
    on_disk: list[int] = []

    class Checking(RecordingListener):
        def session_finished(self, label: str, result: object) -> None:
            super().session_finished(label, result)  # type: ignore[arg-type]
            on_disk.append(len(json.loads(plan.results_path.read_text())["sessions"]))

    engines, provider = FakeEngines(), FakeProvider()
    listener = Checking()
    machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
    outcome = asyncio.run(run(plan, listener, machinery))

    assert on_disk == [1, 2, 3, 4]
    assert [(s.number, s.warmup, s.ok) for s in outcome.sessions] == [
        (1, True, True),
        (2, False, True),
        (3, False, True),
        (4, False, True),
    ]
    assert outcome.summary.measured == 3 and outcome.summary.succeeded == 3
    document = json.loads(plan.results_path.read_text())
    assert document["summary"]["time_to_qr_ms"]["n"] == 3
    # The fake's critical stages, then the handler's: the path every engine shares.
    stages = [stage.name for stage in outcome.sessions[1].stages]
    assert stages[:4] == ["route", "browser_launch", "page_load", "qr_wait"]
    assert {"qr_encode", "db_update", "qr_verify"} <= set(stages)
    assert listener.events[0] == ("run", 4)
    assert [e for e in listener.events if e[0] == "start"] == [
        ("start", "p", n, n == 1) for n in range(1, 5)
    ]
    assert provider.launched == 4 and provider.open_browsers == []
    assert engines.closed == 4


def test_a_failed_attempt_is_retried_on_one_clock(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\nretry:\n  attempts: 2\n", runs=2)
    engines = FakeEngines(script={(1, 1): Act.TIME_OUT})
    outcome, _ = run_fake(plan, engines, FakeProvider())

    first, second = outcome.sessions
    assert first.ok and second.ok
    assert [a.number for a in first.attempts] == [1, 2]
    assert first.attempts[0].error is not None
    assert first.attempts[0].error.type == "QrTimeout"
    # The second attempt starts after the first one's teardown, and its QR counts from
    # the user's click: every stage and time-to-QR sit after the first attempt.
    retry_start_ms = first.attempts[1].start_ms
    assert retry_start_ms >= first.attempts[0].duration_ms
    # Attempt times are recorded to 0.1 ms, stage times are not.
    assert all(stage.start_ms >= retry_start_ms - 0.1 for stage in first.stages)
    assert first.time_to_qr_ms is not None and first.time_to_qr_ms > retry_start_ms
    assert len(second.attempts) == 1
    assert engines.started.count((first.session_id, 2)) == 1


def test_a_bug_in_the_engine_is_a_recorded_failure_and_the_run_goes_on(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    provider = FakeProvider()
    outcome, _ = run_fake(plan, FakeEngines(script={(2, 1): Act.RAISE_BUG}), provider)

    assert [s.ok for s in outcome.sessions] == [True, False, True]
    error = outcome.sessions[1].error
    assert error is not None
    assert (error.stage, error.type) == ("page_load", "RuntimeError")
    assert "a bug in the engine" in error.message
    assert provider.open_browsers == []


def test_a_page_fault_is_armed_for_its_session_and_recorded_when_it_struck(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\nretry:\n  attempts: 2\n", runs=4)
    world = write_yaml(
        tmp_path / "faulty.yaml", SMALL_WORLD + "faults:\n  seed: 3\n  http_500: 0.5\n"
    )
    plan = RunPlan(
        profile=plan.profile,
        scenario=load_scenario(str(world)),
        runs=4,
        warmup=0,
        results_path=plan.results_path,
    )
    outcome, _ = run_fake(plan, FakeEngines(), FakeProvider())

    struck = [[a.fault for a in s.attempts] for s in outcome.sessions]
    assert any("http_500" in faults for faults in struck), struck
    for session in outcome.sessions:
        for attempt in session.attempts:
            # The fake loads the page over HTTP: a 500 it met is a failed attempt, and an
            # attempt that met none succeeded.
            assert (attempt.fault == "http_500") == (attempt.error is not None)


def test_no_browser_to_be_had_stops_the_run_before_any_session(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=2)
    provider = FakeProvider(missing="no Chromium here")
    with pytest.raises(EnvironmentProblem, match="no Chromium here"):
        run_fake(plan, FakeEngines(), provider)
    assert provider.launched == 0
    assert not plan.results_path.exists()


def test_resources_a_provider_cannot_measure_are_none_not_zero(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=2)
    outcome, _ = run_fake(plan, FakeEngines(), FakeProvider(measures_processes=False))
    assert [s.resources for s in outcome.sessions] == [None, None]
    document = json.loads(plan.results_path.read_text())
    assert [s["resources"] for s in document["sessions"]] == [None, None]


def test_interleaved_plans_take_turns(tmp_path: Path) -> None:
    plans = [
        plan_for(tmp_path, "extends: optimized\n", runs=2, name="a"),
        plan_for(tmp_path, "extends: old\n", runs=2, name="b"),
    ]
    listener = RecordingListener()
    machinery = Machinery(engine=FakeEngines(), provider=lambda _browser, _driver: FakeProvider())
    outcomes = asyncio.run(run_interleaved(plans, listener, machinery))
    starts = [(e[1], e[2]) for e in listener.events if e[0] == "start"]
    assert starts == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert [o.summary.succeeded for o in outcomes] == [2, 2]


def test_cancelling_a_run_keeps_the_finished_sessions_and_closes_every_browser(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=4)
    engines, provider = FakeEngines(script={(3, 1): Act.HANG}), FakeProvider()

    cancel_when_hanging(plan, engines, provider)

    document = json.loads(plan.results_path.read_text())
    assert [s["number"] for s in document["sessions"]] == [1, 2]
    assert document["summary"]["time_to_qr_ms"]["n"] == 2
    assert provider.open_browsers == []
    assert engines.closed == 3
    assert provider.reaped  # the run made sure nothing of its sessions was left


def test_sigint_during_a_session_is_interrupted_with_the_results_kept(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    engines, provider = FakeEngines(script={(2, 1): Act.HANG}), FakeProvider()

    async def run_and_signal() -> RunOutcome:
        async def interrupt_when_hanging() -> None:
            await engines.hang_started.wait()
            os.kill(os.getpid(), signal.SIGINT)

        interrupter = asyncio.create_task(interrupt_when_hanging())
        try:
            machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
            return await run(plan, RecordingListener(), machinery)
        finally:
            interrupter.cancel()

    with pytest.raises(Interrupted) as interrupted:
        run_until_signalled(run_and_signal())
    assert interrupted.value.signal_name == "SIGINT"
    document = json.loads(plan.results_path.read_text())
    assert [s["number"] for s in document["sessions"]] == [1]
    assert provider.open_browsers == []


def test_a_signal_is_not_lost_when_the_work_swallows_the_cancellation() -> None:
    async def stubborn() -> str:
        os.kill(os.getpid(), signal.SIGINT)
        # As a client library that catches the cancellation might.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(10)
        return "finished anyway"

    with pytest.raises(Interrupted):
        run_until_signalled(stubborn())
