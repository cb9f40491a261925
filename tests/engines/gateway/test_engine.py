"""The gateway engine against a scripted gateway on loopback: every way a start, a poll
or a stop can answer, each a recorded session (or, before any session, exit 3)."""

import contextlib
import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from qrbench.config.models import QrOptions
from qrbench.engines.handler.qr import encode_png_data_url
from qrbench.errors import ConfigError, EnvironmentProblem
from qrbench.measure.plan import RunOutcome
from qrbench.world.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.engines.gateway.scripted import WHATSAPP_QR, Answer, ScriptedGateway, run_profile
from tests.helpers import SMALL_WORLD, qrbench, write_yaml
from tests.run_helpers import RESULTS

_RESPONSE = """engine: gateway
gateway:
  url: {url}
  request_timeout_ms: 5000
  qr_timeout_ms: 3000
  start:
    url: "{{url}}/start/{{session}}"
    headers:
      X-Api-Key: "${{GATEWAY_TEST_KEY}}"
  qr:
    field: data.qr
{qr}
  stop:
    - method: DELETE
      url: "{{url}}/sessions/{{session}}"
"""
_POLL = """    source: poll
    poll:
      method: GET
      url: "{url}/qr/{session}"
    interval_ms: 20
    status_field: status
    pending: [STARTING]
"""


def _run(tmp_path: Path, url: str, qr: str = "", runs: int = 1) -> RunOutcome:
    return run_profile(tmp_path, _RESPONSE.format(url=url, qr=qr), runs)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GATEWAY_TEST_KEY", "key-that-must-not-be-written")
    return "key-that-must-not-be-written"


def _only_error(outcome: RunOutcome) -> Any:
    (session,) = outcome.sessions
    assert not session.ok
    assert session.error is not None
    return session.error


def test_a_qr_in_the_start_answer_is_timed_and_the_session_stopped(
    tmp_path: Path, api_key: str
) -> None:
    script = {
        ("POST", "start"): [Answer(201, {"data": {"qr": WHATSAPP_QR}})],
        ("DELETE", "sessions"): [Answer(204, raw=b"")],
    }
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, gateway.url, runs=2)
    assert [session.ok for session in outcome.sessions] == [True, True]
    first = outcome.sessions[0]
    assert [stage.name for stage in first.stages] == ["request", "qr_wait", "qr_decode"]
    assert first.time_to_qr_ms == pytest.approx(first.stages[-1].end_ms, abs=0.2)
    assert gateway.seen("DELETE", "sessions") == 2
    # The secret went to the gateway and nowhere else.
    starts = [headers for method, _, headers in gateway.requests if method == "POST"]
    assert [headers["X-Api-Key"] for headers in starts] == [api_key, api_key]
    written = (tmp_path / RESULTS).read_text()
    assert api_key not in written
    assert "${GATEWAY_TEST_KEY}" in written


def test_a_start_answered_500_is_a_failed_request_and_still_stopped(tmp_path: Path) -> None:
    script = {
        ("POST", "start"): [Answer(500, raw=b"Internal error: no browser\nstack...")],
        ("DELETE", "sessions"): [Answer(404, {"error": "no session"})],
    }
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, gateway.url)
    error = _only_error(outcome)
    assert (error.stage, error.type) == ("request", "GatewayFailed")
    assert (
        "POST {url}/start/{session} answered HTTP 500: Internal error: no browser" in error.message
    )
    assert "stack" not in error.message
    # The stop was sent anyway, and its own failure kept beside the session's.
    assert gateway.seen("DELETE", "sessions") == 1
    (stop_error,) = outcome.sessions[0].background_errors
    assert stop_error.stage == "stop"
    assert "HTTP 404" in stop_error.message


def test_an_answer_without_the_qr_names_the_field(tmp_path: Path) -> None:
    script = {("POST", "start"): [Answer(200, {"data": {}})]}
    with ScriptedGateway(script) as gateway:
        error = _only_error(_run(tmp_path, gateway.url))
    assert error.stage == "qr_wait"
    assert "without a QR at 'data.qr'" in error.message


def test_polls_until_the_qr_is_there(tmp_path: Path) -> None:
    starting = Answer(200, {"status": "STARTING"})
    script = {
        ("POST", "start"): [Answer(202, {"status": "STARTING"})],
        ("GET", "qr"): [
            starting,
            starting,
            Answer(200, {"status": "SCAN", "data": {"qr": WHATSAPP_QR}}),
        ],
    }
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, gateway.url, qr=_POLL)
    (session,) = outcome.sessions
    assert session.ok, session.error
    assert gateway.seen("GET", "qr") == 3
    qr_wait = next(stage for stage in session.stages if stage.name == "qr_wait")
    # Two intervals of 20 ms at least between the start's answer and the QR.
    assert qr_wait.duration_ms >= 40


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            Answer(200, raw=b"<html>Bad gateway</html>"),
            "answered no JSON: <html>Bad gateway</html>",
        ),
        (Answer(200, {"status": "FAILED"}), "answered status 'FAILED' and no QR"),
        (Answer(503, raw=b"overloaded"), "answered HTTP 503: overloaded"),
    ],
    ids=["garbage", "failed status", "error status"],
)
def test_a_poll_that_goes_wrong_fails_the_session_in_qr_wait(
    tmp_path: Path, answer: Answer, expected: str
) -> None:
    script = {("POST", "start"): [Answer(202, {})], ("GET", "qr"): [answer]}
    with ScriptedGateway(script) as gateway:
        error = _only_error(_run(tmp_path, gateway.url, qr=_POLL))
    assert error.stage == "qr_wait"
    assert expected in error.message


def test_a_qr_that_never_comes_times_out(tmp_path: Path) -> None:
    script = {
        ("POST", "start"): [Answer(202, {})],
        ("GET", "qr"): [Answer(200, {"status": "STARTING"})],
    }
    with ScriptedGateway(script) as gateway:
        error = _only_error(_run(tmp_path, gateway.url, qr=_POLL))
    assert (error.stage, error.type) == ("qr_wait", "QrTimeout")


def test_a_qr_image_is_decoded(tmp_path: Path) -> None:
    image = encode_png_data_url(WHATSAPP_QR, QrOptions())
    for value in (image, image.removeprefix("data:image/png;base64,")):
        script = {("POST", "start"): [Answer(201, {"data": {"qr": value}})]}
        with ScriptedGateway(script) as gateway:
            outcome = _run(tmp_path, gateway.url, qr="    format: image\n")
        assert outcome.sessions[0].ok, outcome.sessions[0].error


@pytest.mark.parametrize(
    ("value", "qr", "expected"),
    [
        ("not,a,login,qr", "", "not WhatsApp's login QR"),
        ("iVBORw0KGgo=", "    format: image\n", "no readable PNG"),
        ("aGVsbG8=", "    format: image\n", "not a PNG"),
        ("%%%", "    format: image\n", "neither a PNG data URL nor base64"),
    ],
)
def test_a_qr_qrbench_cannot_read_fails_in_qr_decode(
    tmp_path: Path, value: str, qr: str, expected: str
) -> None:
    script = {("POST", "start"): [Answer(201, {"data": {"qr": value}})]}
    with ScriptedGateway(script) as gateway:
        error = _only_error(_run(tmp_path, gateway.url, qr=qr))
    assert (error.stage, error.type) == ("qr_decode", "QrUnreadable")
    assert expected in error.message


def test_an_unreachable_gateway_stops_the_run_before_any_session(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(EnvironmentProblem, match=f"the gateway at {url} is unreachable"):
        _run(tmp_path, url)
    assert not (tmp_path / RESULTS).exists()


_WEBHOOK = """engine: gateway
webhook:
  secret: the-profile-secret
gateway:
  url: {url}
  qr_timeout_ms: 1500
  start:
    url: "{{url}}/start/{{session}}"
    body:
      hook: "{{webhook_url}}"
      session: "{{session}}"
  qr:
    source: webhook
    field: qr
    webhook:
{webhook}
"""


def _posting(event: str = "qr", secret: str | None = None, qr: bool = True) -> Answer:
    """A start answer after which the gateway posts the session's QR event to qrbench."""

    def post(body: bytes) -> None:
        sent = json.loads(body)
        document = {"event": event, "session": sent["session"]}
        if qr:
            document["qr"] = WHATSAPP_QR
        data = json.dumps(document).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            timestamp = str(int(time.time()))
            signature = sign(secret, timestamp, data)
            headers |= {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
        request = urllib.request.Request(sent["hook"], data=data, headers=headers)
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=5).read()

    return Answer(202, {"status": "STARTING"}, then=post)


def _run_webhook(tmp_path: Path, answer: Answer, webhook: str) -> RunOutcome:
    with ScriptedGateway({("POST", "start"): [answer]}) as gateway:
        return run_profile(tmp_path, _WEBHOOK.format(url=gateway.url, webhook=webhook), runs=2)


_SIGNED = "      event_field: event\n      session_field: session\n"
_UNSIGNED = "      signed: false\n      events: [qr]\n      session_field: session\n"


@pytest.mark.parametrize(
    ("answer", "webhook"),
    [(_posting(secret="the-profile-secret"), _SIGNED), (_posting(), _UNSIGNED)],
    ids=["signed", "unsigned"],
)
def test_a_qr_by_webhook_is_timed_to_its_arrival(
    tmp_path: Path, answer: Answer, webhook: str
) -> None:
    outcome = _run_webhook(tmp_path, answer, webhook)
    assert [session.ok for session in outcome.sessions] == [True, True], outcome.sessions[0].error
    stages = [stage.name for stage in outcome.sessions[0].stages]
    assert stages == ["request", "qr_wait", "qr_decode"]


@pytest.mark.parametrize(
    ("answer", "webhook", "kind", "expected"),
    [
        (
            _posting(secret="another-secret"),
            _SIGNED,
            "QrTimeout",
            "receiver refused meanwhile: 1 (bad signature)",
        ),
        (_posting(), _SIGNED, "QrTimeout", "1 (malformed header)"),
        (_posting(event="status"), _UNSIGNED, "QrTimeout", "refused meanwhile: none"),
        (_posting(qr=False), _UNSIGNED, "GatewayFailed", "QR event has no QR at 'qr'"),
    ],
    ids=["bad signature", "unsigned to a signed receiver", "another event", "no qr field"],
)
def test_a_webhook_that_brings_no_qr_fails_the_session_in_qr_wait(
    tmp_path: Path, answer: Answer, webhook: str, kind: str, expected: str
) -> None:
    outcome = _run_webhook(tmp_path, answer, webhook)
    for session in outcome.sessions:
        assert session.error is not None
        assert (session.error.stage, session.error.type) == ("qr_wait", kind)
        assert expected in session.error.message.replace("\n", " ")


def test_a_qr_by_webhook_needs_qrbenchs_own_receiver(tmp_path: Path) -> None:
    yaml = _WEBHOOK.format(url="http://127.0.0.1:9", webhook=_UNSIGNED).replace(
        "  secret: the-profile-secret\n",
        "  secret: the-profile-secret\n  url: http://127.0.0.1:9/hook\n",
    )
    with pytest.raises(ConfigError, match=r"webhook\.url: the gateway's QR comes by webhook"):
        run_profile(tmp_path, yaml)


def test_the_receiver_listens_where_receiver_bind_says(tmp_path: Path) -> None:
    hooks: list[str] = []
    posting = _posting()
    assert posting.then is not None
    post = posting.then

    def record_then_post(body: bytes) -> None:
        hooks.append(json.loads(body)["hook"])
        post(body)

    with ScriptedGateway({("POST", "start"): [Answer(202, {}, then=record_then_post)]}) as gw:
        profile = write_yaml(tmp_path / "gw.yaml", _WEBHOOK.format(url=gw.url, webhook=_UNSIGNED))
        done = qrbench(
            "run",
            "-p",
            str(profile),
            "-s",
            str(write_yaml(tmp_path / "small.yaml", SMALL_WORLD)),
            "--runs",
            "1",
            "--warmup",
            "0",
            "--receiver-bind",
            "0.0.0.0",
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "webhook receiver will listen on 0.0.0.0 (--receiver-bind)" in " ".join(
        done.stderr.split()
    )
    # Named to the gateway as this machine's host name, which reaches every interface.
    (hook,) = hooks
    assert hook.startswith(f"http://{socket.gethostname()}:")


def test_a_qr_by_webhook_before_the_start_answers_is_timed_when_it_came(
    tmp_path: Path,
) -> None:
    posting = _posting()
    held = Answer(202, {"status": "STARTED"}, then=posting.then, held_s=1.5)
    outcome = _run_webhook(tmp_path, held, _UNSIGNED)
    for session in outcome.sessions:
        assert session.ok, session.error
        request = next(stage for stage in session.stages if stage.name == "request")
        # The QR was qrbench's long before the start's answer; the answer was still awaited
        # (off the clock) before the session ended.
        assert request.duration_ms < 1000
        assert session.time_to_qr_ms is not None and session.time_to_qr_ms < 1000
        assert not session.background_errors


_TOKEN_THEN_START = """engine: gateway
gateway:
  url: {url}
  request_timeout_ms: 5000
  qr_timeout_ms: 3000
  before:
    - url: "{{url}}/token/{{session}}"
      save: {{token: data.token}}
  start:
    url: "{{url}}/start/{{session}}"
    headers:
      Authorization: "Bearer {{saved.token}}"
  qr:
    source: poll
    poll:
      method: GET
      url: "{{url}}/qr/{{session}}"
      headers:
        Authorization: "Bearer {{saved.token}}"
    field: value
    interval_ms: 20
    pending_http: [422]
"""


def _run_token(tmp_path: Path, script: dict[tuple[str, str], list[Answer]]) -> Any:
    with ScriptedGateway(script) as gateway:
        return run_profile(tmp_path, _TOKEN_THEN_START.format(url=gateway.url)), gateway


def test_a_token_saved_from_an_earlier_answer_is_sent_and_422_is_polled_again(
    tmp_path: Path,
) -> None:
    not_yet = Answer(422, {"error": "not SCAN_QR_CODE yet"})
    outcome, gateway = _run_token(
        tmp_path,
        {
            ("POST", "token"): [Answer(200, {"data": {"token": "t0k3n"}})],
            ("POST", "start"): [Answer(201, {"status": "STARTING"})],
            ("GET", "qr"): [not_yet, not_yet, Answer(200, {"value": WHATSAPP_QR})],
        },
    )
    (session,) = outcome.sessions
    assert session.ok, session.error
    assert gateway.seen("GET", "qr") == 3
    sent = [
        (path.split("/")[1], headers.get("Authorization")) for _, path, headers in gateway.requests
    ]
    # After the run's reachability probe of {url}: the token, then every request with it.
    assert (
        sent[1:] == [("token", None)] + [("start", "Bearer t0k3n")] + [("qr", "Bearer t0k3n")] * 3
    )
    # A saved value is as secret as the variables: never written.
    assert "t0k3n" not in (tmp_path / RESULTS).read_text()


def test_an_answer_without_the_value_to_save_fails_the_request(tmp_path: Path) -> None:
    outcome, _ = _run_token(tmp_path, {("POST", "token"): [Answer(200, {"data": {}})]})
    error = _only_error(outcome)
    assert (error.stage, error.type) == ("request", "GatewayFailed")
    assert "answered no value at 'data.token' to save as token" in error.message
