"""The reference gateway timed as a user's gateway: started by qrbench, or by hand and
named by URL; and a gateway command that never gets ready."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from qrbench.engines.gateway.engine import REFERENCE_GATEWAY
from tests.engines.gateway.scripted import WHATSAPP_QR
from tests.helpers import free_ports, qrbench, write_yaml

pytestmark = pytest.mark.usefixtures("no_leftover_chromium")


def _gateway_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if str(REFERENCE_GATEWAY) in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.mark.browser
def test_qrbench_starts_times_and_stops_the_reference_gateway(tmp_path: Path) -> None:
    results = tmp_path / "run.json"
    done = qrbench(
        "run",
        "-p",
        "gateway-optimized",
        "--runs",
        "2",
        "--warmup",
        "0",
        "-o",
        str(results),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    document = json.loads(results.read_text())
    assert [session["ok"] for session in document["sessions"]] == [True, True]
    assert document["engine"] == {"name": "gateway"}
    assert not _gateway_processes()


_BY_URL = """engine: gateway
browser:
  replica_port: {replica_port}
gateway:
  url: http://127.0.0.1:{port}
{start_and_qr}
"""
# The three ways the reference gateway hands the QR over, as a user's profile names them.
_QR_MODES = {
    "response": """  start:
    url: "{url}/sessions/{session}?wait=qr"
  stop:
    - method: DELETE
      url: "{url}/sessions/{session}"
""",
    "poll": """  start:
    url: "{url}/sessions/{session}"
  qr:
    source: poll
    poll:
      method: GET
      url: "{url}/sessions/{session}/qr"
    interval_ms: 50
    status_field: status
    pending: [STARTING]
  stop:
    - method: DELETE
      url: "{url}/sessions/{session}"
""",
    # No stop: the accounts' rows stay for the test to read.
    "webhook": """  start:
    url: "{url}/sessions/{session}"
    body:
      webhook_url: "{webhook_url}"
  qr:
    source: webhook
    field: data.qr_code
    webhook:
      signed: false
      events: [qr_code_generated]
      session_field: data.session_id
""",
}


@pytest.mark.browser
def test_a_gateway_started_by_hand_is_named_by_url_in_each_qr_mode(tmp_path: Path) -> None:
    state = {"QRBENCH_STATE_DIR": str(tmp_path / "state")}
    replica_port, port = free_ports(3), free_ports(1)
    flags = qrbench(
        "serve",
        "--replica-port",
        str(replica_port),
        "--args",
        "-p",
        "gateway-optimized",
        cwd=tmp_path,
        env=state,
    ).stdout.splitlines()
    db_path = tmp_path / "gateway.db"
    # Two instances behind the router, the study's split DB writes.
    gateway = subprocess.Popen(
        ["node", str(REFERENCE_GATEWAY)],
        env={
            **os.environ,
            "GATEWAY_PORT": str(port),
            "GATEWAY_CHROMIUM_ARGS": json.dumps(flags),
            "GATEWAY_INSTANCES": "2",
            "GATEWAY_DB_UPDATES": "split",
            "GATEWAY_DB_PATH": str(db_path),
            "GATEWAY_DATA_PATH": str(tmp_path / "gateway-data"),
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert gateway.stdout is not None
        assert "(router, 2 instances)" in gateway.stdout.readline()
        for mode, start_and_qr in _QR_MODES.items():
            profile = write_yaml(
                tmp_path / f"{mode}.yaml",
                _BY_URL.format(replica_port=replica_port, port=port, start_and_qr=start_and_qr),
            )
            done = qrbench(
                "run", "-p", str(profile), "--runs", "2", "--warmup", "0", cwd=tmp_path, env=state
            )
            assert done.returncode == 0, mode + done.stdout + done.stderr
            assert "PASS" in done.stdout, mode
        with sqlite3.connect(db_path) as db:
            rows = db.execute(
                "SELECT status, assigned_instance_index FROM whatsapp_accounts"
            ).fetchall()
        # The webhook mode's two accounts, routed one to each instance; the others deleted.
        assert sorted(rows) == [("qr_scanning", 0), ("qr_scanning", 1)]
    finally:
        gateway.terminate()
        gateway.wait(timeout=20)
    assert not _gateway_processes()


_NEVER_READY = """engine: gateway
gateway:
  url: http://127.0.0.1:0
  command: {command}
  ready: "{{url}}/health"
  ready_timeout_ms: 1500
  start:
    url: "{{url}}/sessions/{{session}}"
"""


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            [sys.executable, "-c", "print('no port for me'); raise SystemExit(3)"],
            "exited with status 3",
        ),
        (
            [sys.executable, "-c", "import time; time.sleep(60)"],
            "did not answer 2xx within 1500 ms",
        ),
    ],
    ids=["exits", "never ready"],
)
def test_a_gateway_that_does_not_get_ready_is_exit_3_naming_it(
    tmp_path: Path, command: list[str], expected: str
) -> None:
    profile = write_yaml(tmp_path / "never.yaml", _NEVER_READY.format(command=json.dumps(command)))
    done = qrbench("run", "-p", str(profile), "--runs", "1", "--warmup", "0", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert expected in message
    assert "/health" in message
    if "status 3" in expected:
        assert "no port for me" in message
    # The command is stopped with the run.
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if "time.sleep(60)" in " ".join(p.info["cmdline"] or [])
    ]
    assert not leftovers


_DYING_GATEWAY = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

starts = 0


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, {"status": "ok"})

    def do_POST(self):
        global starts
        starts += 1
        if starts == 2:
            os._exit(1)  # dies while a start is in flight
        self.answer(201, {"qr": os.environ["QR"]})

    def do_DELETE(self):
        self.answer(200, {})

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_a_gateway_that_dies_mid_run_fails_the_sessions_after_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    script = tmp_path / "dying.py"
    script.write_text(_DYING_GATEWAY)
    profile = write_yaml(
        tmp_path / "dying.yaml",
        "engine: gateway\ngateway:\n  url: http://127.0.0.1:0\n"
        f"  command: [{json.dumps(sys.executable)}, {json.dumps(str(script))}, '{{port}}']\n"
        f"  env: {{QR: {json.dumps(WHATSAPP_QR)}}}\n"
        "  ready: '{url}/health'\n  request_timeout_ms: 5000\n"
        "  start:\n    url: '{url}/start/{session}'\n"
        "  stop:\n    - {method: DELETE, url: '{url}/sessions/{session}'}\n",
    )
    results = tmp_path / "run.json"
    done = qrbench(
        "run", "-p", str(profile), "--runs", "3", "--warmup", "0", "-o", str(results), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sessions = json.loads(results.read_text())["sessions"]
    assert [session["ok"] for session in sessions] == [True, False, False]
    for failed in sessions[1:]:
        assert (failed["error"]["stage"], failed["error"]["type"]) == ("request", "GatewayFailed")
        assert "POST {url}/start/{session} failed" in failed["error"]["message"]
        # Its stop could not be sent either, and says so.
        assert [error["stage"] for error in failed["background_errors"]] == ["stop"]
