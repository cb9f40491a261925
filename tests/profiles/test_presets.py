"""The presets for WAHA, Evolution API, wwebjs-api and wppconnect-server, each run against
a scripted gateway answering in that project's API shape (as docs/gateway.md read it
from their sources): the requests they send, where they find the QR, how they stop."""

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from qrbench.config.loader import ProfileError, load_profile
from qrbench.config.models import QrOptions
from qrbench.engines.handler.qr import encode_png_data_url
from qrbench.measure.plan import RunOutcome
from tests.engines.gateway.scripted import WHATSAPP_QR, Answer, ScriptedGateway, run_profile
from tests.run_helpers import RESULTS

PRESETS = Path(__file__).parents[2] / "qrbench" / "profiles" / "presets"
KEYS = {
    "WAHA_API_KEY": "waha-key",
    "EVOLUTION_API_KEY": "evolution-key",
    "WWEBJS_API_KEY": "wwebjs-key",
    "WPPCONNECT_SECRET_KEY": "wpp-secret",
}


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


def _run(tmp_path: Path, preset: str, gateway: ScriptedGateway) -> RunOutcome:
    # A user's profile: the preset, pointed at their instance.
    yaml = f"extends: {PRESETS / preset}.yaml\ngateway:\n  url: {gateway.url}\n"
    outcome = run_profile(tmp_path, yaml, runs=2)
    assert [session.ok for session in outcome.sessions] == [True, True], outcome.sessions[0].error
    assert all(not session.background_errors for session in outcome.sessions)
    written = (tmp_path / RESULTS).read_text()
    assert not any(value in written for value in KEYS.values())
    return outcome


def _sent(gateway: ScriptedGateway, header: str) -> list[tuple[str, str, str | None]]:
    """(method, path without the session id, header) of each request after the probe."""
    return [
        (method, path.split("?")[0], headers.get(header))
        for method, path, headers in gateway.requests[1:]
    ]


def test_waha_is_started_polled_through_its_422s_and_deleted(tmp_path: Path) -> None:
    not_yet = Answer(422, {"error": "Session status is not as expected", "status": "STARTING"})
    script = {
        ("POST", "api/sessions"): [Answer(201, {"name": "x", "status": "STARTING"})],
        ("GET", "api/*/auth/qr"): [not_yet, Answer(200, {"value": WHATSAPP_QR})],
        ("DELETE", "api/sessions"): [Answer(200, {})],
    }
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, "waha", gateway)
    first = outcome.sessions[0].session_id
    assert _sent(gateway, "X-Api-Key")[:4] == [
        ("POST", "/api/sessions", "waha-key"),
        ("GET", f"/api/{first}/auth/qr", "waha-key"),
        ("GET", f"/api/{first}/auth/qr", "waha-key"),
        ("DELETE", f"/api/sessions/{first}", "waha-key"),
    ]
    assert "format=raw" in gateway.requests[2][1]


def _evolution_posts_its_qr(body: bytes) -> None:
    sent = json.loads(body)
    event = {
        "event": "qrcode.updated",
        "instance": sent["instanceName"],
        "data": {"qrcode": {"code": WHATSAPP_QR, "base64": ""}},
    }
    hook = sent["webhook"]
    assert hook["events"] == ["QRCODE_UPDATED"] and hook["enabled"] is True
    request = urllib.request.Request(
        hook["url"], data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=5).read()


def test_evolution_api_gives_its_qr_by_webhook_before_create_answers(tmp_path: Path) -> None:
    # Create sleeps before it answers; the qrcode.updated event comes first.
    created = Answer(201, {"instance": {}}, then=_evolution_posts_its_qr, held_s=1.0)
    script = {("POST", "instance/create"): [created], ("DELETE", "instance"): [Answer(200, {})]}
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, "evolution-api", gateway)
    for session in outcome.sessions:
        assert session.time_to_qr_ms is not None and session.time_to_qr_ms < 1000
    first = outcome.sessions[0].session_id
    assert _sent(gateway, "apikey")[:3] == [
        ("POST", "/instance/create", "evolution-key"),
        ("DELETE", f"/instance/logout/{first}", "evolution-key"),
        ("DELETE", f"/instance/delete/{first}", "evolution-key"),
    ]


def test_wwebjs_api_is_polled_while_its_answer_says_success_false(tmp_path: Path) -> None:
    not_yet = Answer(200, {"success": False, "message": "qr code not ready or already scanned"})
    ready = Answer(200, {"success": True, "qr": WHATSAPP_QR})
    script = {
        ("GET", "session/start"): [Answer(200, {"success": True, "message": "Session initiated"})],
        ("GET", "session/qr"): [not_yet, not_yet, ready],
        ("GET", "session/terminate"): [Answer(200, {"success": True})],
    }
    with ScriptedGateway(script) as gateway:
        outcome = _run(tmp_path, "wwebjs-api", gateway)
    first = outcome.sessions[0].session_id
    assert _sent(gateway, "x-api-key")[:5] == [
        ("GET", f"/session/start/{first}", "wwebjs-key"),
        *[("GET", f"/session/qr/{first}", "wwebjs-key")] * 3,
        ("GET", f"/session/terminate/{first}", "wwebjs-key"),
    ]


def test_wppconnect_server_asks_a_token_first_and_gives_a_png(tmp_path: Path) -> None:
    png = encode_png_data_url(WHATSAPP_QR, QrOptions()).removeprefix("data:image/png;base64,")
    qr_answer: dict[str, Any] = {"status": "qrcode", "qrcode": png, "urlcode": WHATSAPP_QR}
    script = {
        ("POST", "api/*/*/generate-token"): [Answer(201, {"status": "success", "token": "$2b$"})],
        ("POST", "api/*/start-session"): [Answer(200, qr_answer)],
        ("POST", "api/*/close-session"): [Answer(200, {"status": True})],
    }
    with ScriptedGateway(script) as gateway:
        _run(tmp_path, "wppconnect-server", gateway)
    sent = _sent(gateway, "Authorization")
    assert sent[0][0] == "POST" and sent[0][1].endswith("/wpp-secret/generate-token")
    assert [(method, path.rsplit("/", 1)[1], auth) for method, path, auth in sent[1:3]] == [
        ("POST", "start-session", "Bearer $2b$"),
        ("POST", "close-session", "Bearer $2b$"),
    ]


@pytest.mark.parametrize("preset", sorted(path.stem for path in PRESETS.glob("*.yaml")))
def test_a_preset_without_its_key_is_a_located_profile_error(
    tmp_path: Path, preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in KEYS:
        monkeypatch.delenv(name)
    with pytest.raises(ProfileError, match=rf"{preset}\.yaml:\d+: gateway\..*is not set"):
        load_profile(str(PRESETS / f"{preset}.yaml"))
