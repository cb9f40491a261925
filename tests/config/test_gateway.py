"""A gateway profile's section: its templates and secrets are checked where they are
written (file, key path, line), before anything runs."""

from pathlib import Path

import pytest

from qrbench.config.loader import ProfileError, load_profile
from qrbench.config.models import EngineKind
from qrbench.config.templates import fill, fill_json
from tests.helpers import write_yaml

_GATEWAY = """engine: gateway
gateway:
  url: http://127.0.0.1:8080
  start:
    url: "{start_url}"
    headers:
      X-Api-Key: "{api_key}"
"""


def _load(tmp_path: Path, start_url: str = "{url}/sessions/{session}", api_key: str = "k"):
    text = _GATEWAY.replace("{start_url}", start_url).replace("{api_key}", api_key)
    return load_profile(str(write_yaml(tmp_path / "gw.yaml", text)))


def test_a_gateway_profile_loads_with_its_templates_unfilled(tmp_path: Path) -> None:
    profile = _load(tmp_path)
    assert profile.engine is EngineKind.GATEWAY
    assert profile.gateway is not None
    assert profile.gateway.start.url == "{url}/sessions/{session}"
    assert profile.gateway.start.method == "POST"


def test_an_unknown_placeholder_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as raised:
        _load(tmp_path, start_url="{url}/sessions/{sesion}")
    message = str(raised.value)
    assert "gw.yaml:5: gateway.start.url" in message
    assert "unknown placeholder {sesion}" in message


def test_a_secret_from_an_unset_variable_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAHA_API_KEY", raising=False)
    with pytest.raises(ProfileError) as raised:
        _load(tmp_path, api_key="${WAHA_API_KEY}")
    message = str(raised.value)
    assert "gw.yaml:7: gateway.start.headers" in message
    assert "environment variable WAHA_API_KEY is not set" in message


def test_a_secret_is_read_at_use_and_never_kept_in_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAHA_API_KEY", "s3cr{et}")
    profile = _load(tmp_path, api_key="${WAHA_API_KEY}")
    assert profile.gateway is not None
    header = profile.gateway.start.headers["X-Api-Key"]
    assert header == "${WAHA_API_KEY}"
    # Braces in a secret's value are not placeholders.
    assert fill(header, {}) == "s3cr{et}"
    assert fill_json({"a": ["{session}", 1]}, {"session": "abc"}) == {"a": ["abc", 1]}


def test_a_session_placeholder_in_the_command_is_refused(tmp_path: Path) -> None:
    yaml = (
        "engine: gateway\ngateway:\n  url: http://127.0.0.1:1\n"
        "  command: [node, '{session}']\n  ready: '{url}/health'\n"
        "  start:\n    url: '{url}/s'\n"
    )
    with pytest.raises(ProfileError, match=r"gateway\.command.*unknown placeholder \{session\}"):
        load_profile(str(write_yaml(tmp_path / "gw.yaml", yaml)))


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("  qr:\n    source: poll\n", "poll: required when source is poll"),
        ("  command: [node, x.js]\n", "ready: required with command"),
        ("  qr:\n    webhook:\n      signed: false\n", "webhook: only for source webhook"),
        ("  qr:\n    source: webhook\n    webhook:\n      sign: no\n", "webhook.sign"),
        ("  qr:\n    pending_http: [422]\n", "pending_http: only for source poll"),
        (
            "  stop:\n    - url: '{url}/x/{saved.token}'\n",
            r"stop\[0\]: \{saved.token\} is not saved by an earlier request",
        ),
        (
            "  stop:\n    - url: '{url}/x'\n      save: {token: t}\n",
            "save: only on before requests and the start",
        ),
    ],
)
def test_a_gateway_section_that_cannot_work_is_refused(
    tmp_path: Path, extra: str, problem: str
) -> None:
    text = _GATEWAY.replace("{start_url}", "{url}/s").replace("{api_key}", "k") + extra
    with pytest.raises(ProfileError, match=problem):
        load_profile(str(write_yaml(tmp_path / "gw.yaml", text)))


def test_the_gateway_url_must_be_http(tmp_path: Path) -> None:
    text = _GATEWAY.replace("http://127.0.0.1:8080", "ftp://x").replace("{start_url}", "/s")
    with pytest.raises(ProfileError, match=r"gateway\.url.*not an http"):
        load_profile(str(write_yaml(tmp_path / "gw.yaml", text.replace("{api_key}", "k"))))
