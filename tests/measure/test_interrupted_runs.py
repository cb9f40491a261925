"""A run that stops early: its results file says so, the gate refuses it, and a
cancellation a library swallowed still stops the run (fake engine, real services)."""

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from qrbench import results
from qrbench.analysis.gate import judge
from qrbench.analysis.thresholds import ThresholdOverrides
from qrbench.engines.base import FirstQr, PreparedSession
from qrbench.records import ResourceUsage, Stage
from tests.fakes import (
    Act,
    FakeEngine,
    FakeEngines,
    FakePage,
    FakeProvider,
    cancel_when_hanging,
    plan_for,
    run_fake,
)
from tests.helpers import results_document


def test_a_complete_run_says_complete_and_the_gate_judges_it(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=2)
    run_fake(plan, FakeEngines(), FakeProvider())
    assert json.loads(plan.results_path.read_text())["status"] == "complete"
    saved = results.load(plan.results_path)
    assert saved.status is results.RunStatus.COMPLETE
    assert judge(saved, ThresholdOverrides(), None).measured == 2


def test_a_run_cancelled_in_session_2_says_interrupted_and_the_gate_refuses_it(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    engines, provider = FakeEngines(script={(2, 1): Act.HANG}), FakeProvider()

    cancel_when_hanging(plan, engines, provider)

    document = json.loads(plan.results_path.read_text())
    assert document["status"] == "interrupted"
    assert len(document["sessions"]) == 1
    with pytest.raises(results.ResultsError, match="interrupted after 1 sessions"):
        judge(results.load(plan.results_path), ThresholdOverrides(), None)


class _Swallowing(FakeEngines):
    """Session 1 swallows the cancellation while its engine closes, after its last stage,
    as a Redis client caught mid-command did."""

    swallowed = False

    def __call__(self, session: PreparedSession) -> FakeEngine:
        engine = super().__call__(session)
        if session.session_id.endswith("-1"):
            close = engine.close

            async def stubborn() -> ResourceUsage | None:
                self.hang_started.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(30)
                self.swallowed = True
                return await close()

            engine.close = stubborn  # type: ignore[method-assign]
        return engine


def test_a_swallowed_cancellation_still_stops_the_run_before_the_next_session(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    engines, provider = _Swallowing(), FakeProvider()

    cancel_when_hanging(plan, engines, provider)

    assert engines.swallowed
    assert [session_id.rsplit("-", 1)[1] for session_id, _ in engines.started] == ["1"]
    document = json.loads(plan.results_path.read_text())
    assert document["status"] == "interrupted"
    assert [s["number"] for s in document["sessions"]] == [1]
    assert provider.open_browsers == []


class _SwallowingInAStage(FakeEngines):
    """Every session swallows the cancellation in page_load, then would wait a minute in
    qr_wait: the stage a session starts after the swallow must not run."""

    swallowed = False
    reached_qr_wait = False

    def __call__(self, session: PreparedSession) -> FakeEngine:
        engine = super().__call__(session)

        async def stubborn() -> FirstQr:
            timer = session.timer
            with timer.stage(Stage.PAGE_LOAD, critical=True):
                self.hang_started.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(30)
                self.swallowed = True
            with timer.stage(Stage.QR_WAIT, critical=True):
                self.reached_qr_wait = True
                await asyncio.sleep(60)
            return FirstQr("2@never", FakePage())

        engine.show_qr = stubborn  # type: ignore[method-assign]
        return engine


def test_a_cancellation_swallowed_in_a_stage_ends_the_session_at_its_next_stage(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    engines, provider = _SwallowingInAStage(), FakeProvider()

    cancel_when_hanging(plan, engines, provider)

    assert engines.swallowed
    assert not engines.reached_qr_wait
    # It finished no session, so it leaves no results file.
    assert not plan.results_path.exists()
    assert provider.open_browsers == []


@pytest.mark.parametrize(
    ("sessions", "expected"),
    [(2, results.RunStatus.COMPLETE), (1, results.RunStatus.INTERRUPTED)],
    ids=["all-planned", "fewer-than-planned"],
)
def test_files_from_before_the_status_field_still_load_with_their_status_inferred(
    tmp_path: Path, sessions: int, expected: results.RunStatus
) -> None:
    document = results_document("p", [1000.0] * sessions)
    assert "status" not in document
    document["plan"] = {"runs": 2, "warmup": 0}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    assert results.load(path).status is expected


def test_an_unknown_status_is_one_line_naming_the_field(tmp_path: Path) -> None:
    document = results_document("p", [1000.0])
    document["status"] = "paused"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document))
    with pytest.raises(results.ResultsError, match="status: expected one of"):
        results.load(path)
