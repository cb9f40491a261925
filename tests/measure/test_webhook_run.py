"""A run's webhook: its secret, drawn per run, and the receiver's refusals in the summary.

No Chromium: the fake engine shows the QR; the handler posts it to qrbench's real receiver.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from qrbench.config.loader import load_profile, load_scenario
from qrbench.engines.base import PreparedSession
from qrbench.measure.runner import Machinery, RunOutcome, RunPlan, run
from qrbench.world.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode_event, sign
from tests.fakes import FakeEngine, FakeEngines, FakeProvider
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import RecordingListener

BLOCKING = "extends: optimized\nwebhook:\n  mode: blocking\n"


def run_webhook(tmp_path: Path, engines: FakeEngines, runs: int = 2) -> RunOutcome:
    plan = RunPlan(
        profile=load_profile(str(write_yaml(tmp_path / "p.yaml", BLOCKING))),
        scenario=load_scenario(str(write_yaml(tmp_path / "small.yaml", SMALL_WORLD))),
        runs=runs,
        warmup=0,
        results_path=tmp_path / "results.json",
    )
    provider = FakeProvider()
    machinery = Machinery(engine=engines, provider=lambda _browser, _driver: provider)
    return asyncio.run(run(plan, RecordingListener(), machinery))


FORGED = encode_event("qr_code_generated", {"session_id": "forged"})


def forge(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=FORGED, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


class Forging(FakeEngines):
    """Before each session, someone without the run's secret posts to its receiver."""

    def __call__(self, session: PreparedSession) -> FakeEngine:
        url = session.setup.webhook_url
        assert url is not None
        # The receiver serves on its own thread: a blocking POST here cannot deadlock it.
        stamp = str(int(time.time()))
        guessed = sign("qrbench-webhook-secret", stamp, FORGED)  # the old fixed default
        assert forge(url, {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: guessed}) == 401
        assert forge(url, {TIMESTAMP_HEADER: "9" * 5000, SIGNATURE_HEADER: guessed}) == 400
        return super().__call__(session)


def test_a_profile_without_a_secret_signs_with_one_drawn_for_the_run(tmp_path: Path) -> None:
    outcome = run_webhook(tmp_path, FakeEngines())

    assert [s.ok for s in outcome.sessions] == [True, True]
    webhooks = [stage for s in outcome.sessions for stage in s.stages if stage.name == "webhook"]
    assert [stage.ok for stage in webhooks] == [True, True]
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["profile"]["webhook"]["secret"] == "<redacted>"
    assert document["summary"]["webhook_rejected"] == {}


def test_refused_requests_are_counted_in_the_summary_by_reason(tmp_path: Path) -> None:
    outcome = run_webhook(tmp_path, Forging(), runs=3)

    assert [s.ok for s in outcome.sessions] == [True, True, True]
    expected = {"bad signature": 3, "malformed header": 3}
    assert outcome.summary.webhook_rejected == expected
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["summary"]["webhook_rejected"] == expected
