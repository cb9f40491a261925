"""`capacity` against a gateway: the memory is the gateway's whole tree when qrbench
started it, and unavailable when the gateway runs elsewhere."""

import asyncio
from pathlib import Path

import pytest

from qrbench.measure.capacity import ramp
from qrbench.report.wording.capacity import knee_sentence
from tests.engines.gateway.scripted import WHATSAPP_QR, Answer, ScriptedGateway
from tests.fakes import RecordingRampListener, capacity_plan_for


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_the_reference_gateways_two_instances_are_measured_whole(tmp_path: Path) -> None:
    # gateway-new: the router in front of two instances, each a Node process of its own.
    plan = capacity_plan_for(
        tmp_path, [1, 2], sessions=2, warmup=0, profile_yaml="extends: gateway-new\n"
    )
    outcome = asyncio.run(ramp(plan, RecordingRampListener(), min_sessions_per_step=2))
    assert [step.judgement.succeeded for step in outcome.steps] == [2, 2], outcome.steps
    for step in outcome.steps:
        assert step.memory is not None, step
        # A session's Chromium may still be closing as the next one launches.
        assert 1 <= step.memory.browsers_at_peak <= step.load.concurrency + 1, step.memory
        # Three Node processes (about 50 MB each at least) and the Chromiums.
        assert step.memory.peak_rss_mb > 150


def test_a_gateway_qrbench_did_not_start_has_no_memory_to_show(tmp_path: Path) -> None:
    script = {("POST", "start"): [Answer(201, {"qr": WHATSAPP_QR})]}
    with ScriptedGateway(script) as gateway:
        yaml = (
            f"engine: gateway\ngateway:\n  url: {gateway.url}\n  start:\n    url: '{{url}}/start'\n"
        )
        plan = capacity_plan_for(tmp_path, [1, 2], sessions=2, warmup=0, profile_yaml=yaml)
        outcome = asyncio.run(ramp(plan, RecordingRampListener(), min_sessions_per_step=2))
    assert [step.judgement.succeeded for step in outcome.steps] == [2, 2]
    assert [step.memory for step in outcome.steps] == [None, None]
    assert "gateway runs outside qrbench" in knee_sentence(outcome.knee)
