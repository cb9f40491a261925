"""A gateway's spans on the session's timeline: qrbench's traceparent on its requests, the
spans exported back to its OTLP endpoint, placed under the stage each starts in."""

import contextlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from qrbench.engines.gateway.tracing import TRACEPARENT
from tests.engines.gateway.scripted import WHATSAPP_QR, Answer, ScriptedGateway, run_profile
from tests.helpers import SMALL_WORLD, qrbench, write_yaml
from tests.run_helpers import RESULTS
from tests.world.test_otlp import export_of, span

_TRACED = """engine: gateway
gateway:
  url: {url}
  traces:
    wait_ms: {wait_ms}
  start:
    url: "{{url}}/start/{{session}}"
    body:
      otlp: "{{otlp_endpoint}}"
"""


def _exporting(gateway: list[ScriptedGateway], delay_s: float = 0.0, insert_ms: int = 10) -> Answer:
    """A start answered with the QR after the gateway spent 50 ms in two spans of the
    session's trace (the inner one `insert_ms` long), exported to qrbench (`delay_s`
    later, as a batch exporter would)."""

    def export(body: bytes) -> None:
        traceparent = gateway[0].requests[-1][2][TRACEPARENT]
        _, trace, parent, flags = traceparent.split("-")
        assert flags == "01"
        started = time.time_ns()
        time.sleep(0.05)
        ended = time.time_ns()
        server = secrets.token_hex(8)
        spans = export_of(
            trace,
            span(trace, "POST /start/:id", started, ended, parent=parent, span_id=server),
            span(
                trace,
                "db.insert",
                started + 10**6,
                started + (1 + insert_ms) * 10**6,
                parent=server,
                **{"http.request.header.x-api-key": "a-key"},
            ),
        ).SerializeToString()
        endpoint = json.loads(body)["otlp"]

        def send() -> None:
            request = urllib.request.Request(
                endpoint + "/v1/traces",
                data=spans,
                headers={"Content-Type": "application/x-protobuf"},
            )
            # A late export may find the run, and its endpoint, gone.
            with contextlib.suppress(urllib.error.URLError):
                urllib.request.urlopen(request, timeout=5).read()

        threading.Timer(delay_s, send).start() if delay_s else send()

    return Answer(201, {"qr": WHATSAPP_QR}, then=export, held_s=0.01)


def test_the_gateways_spans_are_nested_under_the_stage_they_start_in(tmp_path: Path) -> None:
    holder: list[ScriptedGateway] = []
    with ScriptedGateway({("POST", "start"): [_exporting(holder)]}) as gateway:
        holder.append(gateway)
        outcome = run_profile(tmp_path, _TRACED.format(url=gateway.url, wait_ms=2000), runs=2)
    traces = set()
    for session in outcome.sessions:
        assert session.ok, session.error
        server, insert = session.spans
        request = session.stages[0]
        assert request.name == "request"
        assert (server.name, server.parent_span_id, server.stage) == (
            "POST /start/:id",
            None,
            "request",
        )
        assert (insert.name, insert.parent_span_id, insert.stage) == (
            "db.insert",
            server.span_id,
            "request",
        )
        assert server.service == "gateway"
        # On the session's clock, inside the request that made them.
        assert request.start_ms <= server.start_ms < server.end_ms <= request.end_ms + 5
        assert 40 <= server.duration_ms <= 1000
        traces.add(session.session_id)
    assert len(traces) == 2
    # Every start carried its session's own trace.
    sent = [headers[TRACEPARENT].split("-")[1] for _, _, headers in gateway.requests[1:]]
    assert len(set(sent)) == 2
    written = (tmp_path / RESULTS).read_text()
    assert "a-key" not in written and '"spans"' in written


def test_late_spans_are_waited_for_up_to_the_bound(tmp_path: Path) -> None:
    for wait_ms, kept in ((2000, 2), (50, 0)):
        holder: list[ScriptedGateway] = []
        with ScriptedGateway({("POST", "start"): [_exporting(holder, delay_s=0.5)]}) as gateway:
            holder.append(gateway)
            outcome = run_profile(tmp_path, _TRACED.format(url=gateway.url, wait_ms=wait_ms))
            time.sleep(0.6)  # the late export lands after the run, unheard
        (session,) = outcome.sessions
        assert session.ok and len(session.spans) == kept, wait_ms


def test_a_gateway_that_sends_no_spans_keeps_its_black_box_stages(tmp_path: Path) -> None:
    with ScriptedGateway({("POST", "start"): [Answer(201, {"qr": WHATSAPP_QR})]}) as gateway:
        started = time.monotonic()
        outcome = run_profile(tmp_path, _TRACED.format(url=gateway.url, wait_ms=1500), runs=4)
        took_s = time.monotonic() - started
    assert [session.spans for session in outcome.sessions] == [[]] * 4
    assert [stage.name for stage in outcome.sessions[0].stages] == [
        "request",
        "qr_wait",
        "qr_decode",
    ]
    # Only the first session waited for spans that never came.
    assert took_s < 4 * 1.5


def test_run_v_nests_the_spans_under_their_stage_and_says_where_to_send_them(
    tmp_path: Path,
) -> None:
    holder: list[ScriptedGateway] = []
    with ScriptedGateway({("POST", "start"): [_exporting(holder)]}) as gateway:
        holder.append(gateway)
        profile = write_yaml(tmp_path / "gw.yaml", _TRACED.format(url=gateway.url, wait_ms=2000))
        small = write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
        exported = tmp_path / "summary.json"
        done = qrbench(
            "run",
            "-p",
            str(profile),
            "-s",
            str(small),
            "-n",
            "2",
            "-v",
            "--json",
            str(exported),
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    # The same rows in the JSON summary, paths and medians.
    rows = json.loads(exported.read_text())["summary"]["spans"]
    assert [row["path"] for row in rows] == [["POST /start/:id"], ["POST /start/:id", "db.insert"]]
    assert [row["stage"] for row in rows] == ["request", "request"]
    assert rows[1]["sessions"] == 2 and 9 <= rows[1]["duration"]["median"] <= 11
    out = done.stdout
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" in out
    assert "inside the page and the gateway" in out
    # The child one level in, both in the request stage.
    server_line = next(line for line in out.splitlines() if "POST /start/:id" in line)
    insert_line = next(line for line in out.splitlines() if "db.insert" in line)
    assert "request" in server_line and "request" in insert_line
    assert insert_line.index("db.insert") == server_line.index("POST /start/:id") + 2
    assert "the gateway sent 2 kind(s) of span" in out


def test_a_run_without_spans_says_its_stages_are_black_box_only(tmp_path: Path) -> None:
    with ScriptedGateway({("POST", "start"): [Answer(201, {"qr": WHATSAPP_QR})]}) as gateway:
        profile = write_yaml(tmp_path / "gw.yaml", _TRACED.format(url=gateway.url, wait_ms=100))
        small = write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
        done = qrbench("run", "-p", str(profile), "-s", str(small), "-n", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the gateway sent no spans: black-box stages only" in " ".join(done.stdout.split())
