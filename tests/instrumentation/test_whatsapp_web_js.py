"""qrbench's OpenTelemetry instrumentation for whatsapp-web.js, loaded with `node --require`
into the reference gateway and run against the real library: each span, where it nests,
and the context that crosses the router's IPC to its DB writes."""

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from qrbench.engines.gateway.engine import NODE_TRACING
from qrbench.engines.gateway.tracing import SessionTrace
from qrbench.engines.wwebjs.install import DRIVER_DIR
from qrbench.world.otlp import OtlpReceiver, ReceivedSpan
from tests.browsers.servers import cdp_chromium
from tests.helpers import qrbench

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]


def _spans_of_one_session(tmp_path: Path, profile: str) -> dict[str, dict[str, Any]]:
    results = tmp_path / f"{profile}.json"
    done = qrbench("run", "-p", profile, "-n", "1", "-w", "0", "-o", str(results), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (session,) = json.loads(results.read_text())["sessions"]
    spans = session["spans"]
    # One span per name in one session, but for the HTTP ones (named by their method).
    return {span["name"]: span for span in spans if span["name"] not in ("POST", "GET")} | {
        "all": spans
    }


def _parent(spans: dict[str, Any], name: str) -> str:
    by_id = {span["span_id"]: span for span in spans["all"]}
    return by_id[spans[name]["parent_span_id"]]["name"]


def test_the_libraries_own_functions_are_spans_nested_as_they_call_each_other(
    tmp_path: Path,
) -> None:
    spans = _spans_of_one_session(tmp_path, "gateway-optimized")
    # The client was made while the gateway served qrbench's start: its server span.
    assert _parent(spans, "Client.initialize") == "POST"
    for inside in (
        "LocalAuth.beforeBrowserInitialized",
        "puppeteer.launch",
        "LocalAuth.afterBrowserInitialized",
        "Client.initWebVersionCache",
        "Page.goto",
        "Client.inject",
    ):
        assert _parent(spans, inside) == "Client.initialize", inside
    assert _parent(spans, "LocalAuth.onAuthenticationNeeded") == "Client.inject"
    # In the order initialize runs them.
    order = ["puppeteer.launch", "Client.initWebVersionCache", "Page.goto", "Client.inject"]
    starts = [spans[name]["start_ms"] for name in order]
    assert starts == sorted(starts)
    assert spans["puppeteer.launch"]["duration_ms"] > 50
    # whatsapp-web.js 1.34 emits the first qr inside inject, which goes on after it.
    qr_wait, inject = spans["Client qr wait"], spans["Client.inject"]
    assert _parent(spans, "Client qr wait") == "POST"
    assert inject["start_ms"] <= qr_wait["start_ms"] + 1
    assert (
        qr_wait["start_ms"] + qr_wait["duration_ms"] <= inject["start_ms"] + inject["duration_ms"]
    )
    assert qr_wait["start_ms"] + qr_wait["duration_ms"] <= spans["qr listener"]["start_ms"] + 1
    # The qr listener, in the client's context, holds the gateway's write and its webhook.
    listener = spans["qr listener"]
    assert _parent(spans, "qr listener") == "POST"
    assert _parent(spans, "UPDATE whatsapp_accounts (status, instance)") == "qr listener"
    webhook = [
        span
        for span in spans["all"]
        if span["name"] == "POST" and span["parent_span_id"] == listener["span_id"]
    ]
    assert len(webhook) == 1
    assert all(span["stage"] == "request" for span in spans["all"])


def test_the_routers_split_writes_nest_under_the_instances_qr_listener(tmp_path: Path) -> None:
    spans = _spans_of_one_session(tmp_path, "gateway-new")
    assert _parent(spans, "RemoteAuth.beforeBrowserInitialized") == "Client.initialize"
    status = spans["UPDATE whatsapp_accounts (status)"]
    instance = spans["UPDATE whatsapp_accounts (instance)"]
    # Written by the router, in the trace the instance sent over IPC.
    assert _parent(spans, "UPDATE whatsapp_accounts (status)") == "qr listener"
    assert status["service"] == instance["service"] == "reference-gateway"
    assert spans["qr listener"]["service"].startswith("reference-gateway-instance-")
    assert status["start_ms"] <= instance["start_ms"]
    # RemoteAuth asks its Redis store whether the session exists, under its hook.
    exists = [span for span in spans["all"] if span["name"] == "redis-EXISTS"]
    assert len(exists) == 1, [span["name"] for span in spans["all"]]
    hook = spans["RemoteAuth.beforeBrowserInitialized"]
    assert exists[0]["parent_span_id"] == hook["span_id"]


def _traced_node(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`node --require register.js -e script args...` in the driver's dir (its packages),
    with `env` over this process's environment."""
    return subprocess.run(
        ["node", "--require", str(NODE_TRACING), "-e", script, *args],
        cwd=DRIVER_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_qrbench_chromium_args_reach_every_puppeteer_launch(tmp_path: Path) -> None:
    script = (
        "const puppeteer = require('puppeteer');"
        "puppeteer.launch({executablePath: '/usr/bin/chromium', headless: true,"
        " args: ['--no-sandbox', '--disable-gpu']}).then(async (browser) => {"
        " console.log(JSON.stringify(browser.process().spawnargs)); await browser.close(); });"
    )
    done = _traced_node(
        script,
        env={"QRBENCH_CHROMIUM_ARGS": json.dumps(["--qrbench-marker=1"]), "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    spawned = json.loads(done.stdout.strip().splitlines()[-1])
    assert "--qrbench-marker=1" in spawned and "--no-sandbox" in spawned


def test_bad_qrbench_chromium_args_stop_the_gateway_with_the_reason() -> None:
    done = _traced_node("0", env={"QRBENCH_CHROMIUM_ARGS": '{"not": "a list"}'})
    assert done.returncode != 0
    assert "QRBENCH_CHROMIUM_ARGS must be a JSON list of strings" in done.stderr


_CONNECT_JS = """
const api = require('@opentelemetry/api');
const puppeteer = require('puppeteer');
const parent = api.propagation.extract(api.context.active(), { traceparent: process.argv[1] });
api.context.with(parent, () => puppeteer.connect({ browserWSEndpoint: process.argv[2] }))
    .then((browser) => browser.disconnect(), (error) => console.error(String(error)));
"""


def _connected_spans(tmp_path: Path, endpoint: str) -> tuple[SessionTrace, list[ReceivedSpan]]:
    otlp = OtlpReceiver()
    trace = SessionTrace.new()
    otlp.expect(trace.trace_id)
    try:
        done = _traced_node(
            _CONNECT_JS,
            trace.traceparent,
            endpoint,
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.start(),
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "TMPDIR": str(tmp_path),
            },
        )
        assert done.returncode == 0, done.stderr
        # Flushed as the script's event loop ran dry, so already here or about to be.
        deadline = time.monotonic() + 5
        while not otlp.spans(trace.trace_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        return trace, otlp.spans(trace.trace_id)
    finally:
        otlp.stop()


def test_a_gateway_connecting_to_a_remote_browser_has_a_connect_span(tmp_path: Path) -> None:
    browser = cdp_chromium()
    try:
        trace, spans = _connected_spans(tmp_path, browser.endpoint)
    finally:
        browser.stop()
    (connect,) = [span for span in spans if span.name == "puppeteer.connect"]
    assert connect.parent_span_id == trace.span_id
    assert connect.ok
    assert connect.end_unix_ns > connect.start_unix_ns


def test_a_connect_that_fails_is_a_failed_connect_span(tmp_path: Path) -> None:
    # A loopback port nobody listens on: refused at once.
    trace, spans = _connected_spans(tmp_path, "ws://127.0.0.1:9/devtools/browser/gone")
    (connect,) = [span for span in spans if span.name == "puppeteer.connect"]
    assert connect.parent_span_id == trace.span_id
    assert not connect.ok
