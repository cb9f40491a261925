"""The runner under load (--concurrency, --arrival-rate) with a fake engine and provider."""

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from qrbench.config.load import Load
from qrbench.measure.plan import RunPlan
from qrbench.measure.runner import Machinery, run
from qrbench.measure.scheduler import OpenLoop
from tests.fakes import Act, FakeEngines, FakeProvider, plan_for, run_fake
from tests.run_helpers import RecordingListener


def under(plan: RunPlan, load: Load) -> RunPlan:
    return RunPlan(
        profile=plan.profile,
        scenario=plan.scenario,
        runs=plan.runs,
        warmup=plan.warmup,
        results_path=plan.results_path,
        load=load,
    )


def slow(numbers: range) -> dict[tuple[int, int], Act]:
    return {(number, 1): Act.SLOW for number in numbers}


def test_concurrency_keeps_n_sessions_in_flight_after_the_warmup_alone(tmp_path: Path) -> None:
    plan = under(plan_for(tmp_path, "extends: optimized\n", runs=5, warmup=1), Load(concurrency=2))
    engines, provider = FakeEngines(script=slow(range(1, 7))), FakeProvider()
    outcome, listener = run_fake(plan, engines, provider)

    assert provider.most_open == 2 and provider.open_browsers == []
    assert outcome.summary.measured == 5 and outcome.summary.succeeded == 5
    # The warmup finished before any measured session started.
    order = [(e[0], e[2]) for e in listener.events if e[0] in ("start", "done")]
    assert order[:3] == [("start", 1), ("done", 1), ("start", 2)]
    document = json.loads(plan.results_path.read_text())
    assert document["plan"] == {"runs": 5, "warmup": 1, "concurrency": 2}
    # However they finished, the file keeps the sessions in the order they started.
    assert [s["number"] for s in document["sessions"]] == [1, 2, 3, 4, 5, 6]
    assert document["status"] == "complete"
    for session in document["sessions"]:
        assert session["started_ms"] >= session["scheduled_start_ms"] >= 0
    # The second measured session started with the first, not after it.
    second, third = document["sessions"][1], document["sessions"][2]
    assert third["started_ms"] < second["started_ms"] + second["time_to_qr_ms"]


def test_an_open_loop_starts_sessions_on_its_seeded_schedule(tmp_path: Path) -> None:
    load = Load(arrival_rate_per_min=300, seed=5)  # one every 0.2 s on average
    plan = under(plan_for(tmp_path, "extends: optimized\n", runs=4, warmup=1), load)
    # Every measured session is slow: a closed loop would start each after the last.
    outcome, _ = run_fake(plan, FakeEngines(script=slow(range(2, 6))), FakeProvider())

    assert outcome.summary.succeeded == 4
    document = json.loads(plan.results_path.read_text())
    assert document["plan"] == {
        "runs": 4,
        "warmup": 1,
        "arrival_rate_per_min": 300,
        "seed": 5,
    }
    measured = document["sessions"][1:]
    load_start = measured[0]["scheduled_start_ms"]
    expected = list(itertools.islice(OpenLoop(300, 5).offsets(), 4))
    scheduled_s = [(s["scheduled_start_ms"] - load_start) / 1000 for s in measured]
    assert scheduled_s == pytest.approx(expected, abs=0.001)
    # Recorded lateness: never negative.
    assert all(s["started_ms"] >= s["scheduled_start_ms"] for s in measured)


def _finished(listener: RecordingListener) -> list[int]:
    return sorted(event[2] for event in listener.events if event[0] == "done")


def test_cancelling_with_sessions_in_flight_keeps_the_finished_and_closes_every_browser(
    tmp_path: Path,
) -> None:
    plan = under(plan_for(tmp_path, "extends: optimized\n", runs=4), Load(concurrency=3))
    script = {(2, 1): Act.HANG, (3, 1): Act.HANG}
    engines, provider = FakeEngines(script=script), FakeProvider()

    listener = RecordingListener()

    async def cancel_while_two_hang() -> None:
        machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
        task = asyncio.create_task(run(plan, listener, machinery))
        # Sessions 1 and 4 finish (recorded, not only their browsers closed: under load
        # the cancel could land between the two); 2 and 3 stay in flight until cancelled.
        while len(provider.open_browsers) != 2 or _finished(listener) != [1, 4]:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancel_while_two_hang(), 10))

    document = json.loads(plan.results_path.read_text())
    assert [s["number"] for s in document["sessions"]] == [1, 4]
    assert document["status"] == "interrupted"
    assert provider.open_browsers == []
    assert engines.closed == 4
