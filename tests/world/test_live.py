"""The live world's check before any session: each step that can fail is named."""

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qrbench.world import live
from qrbench.world.replica import tls


class StandIn:
    """An HTTPS server on loopback answering as `localhost`, its certificate on disk."""

    def __init__(self, directory: Path, answer: bytes) -> None:
        cert_pem, key_pem = tls._issue(["localhost"], datetime.timedelta(days=1))
        self.cert = directory / "stand-in.pem"
        key = directory / "stand-in-key.pem"
        self.cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(self.cert, key)
        self._answer = answer
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://localhost:{self._server.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self._server.accept()
            except OSError:
                return
            try:
                with self._context.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(1024)
                    conn.sendall(self._answer)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    yield server
    server.close()


def test_a_name_that_does_not_resolve_fails_at_dns() -> None:
    with pytest.raises(live.LiveUnreachable) as raised:
        live.probe("https://web.whatsapp.invalid/")
    assert raised.value.step is live.Step.DNS
    assert str(raised.value).startswith(
        "the live world is unreachable: web.whatsapp.invalid: DNS lookup failed ("
    )
    assert raised.value.exit_code == 3


def test_a_closed_port_fails_at_tcp() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(live.LiveUnreachable) as raised:
        live.probe(f"https://127.0.0.1:{port}/")
    assert raised.value.step is live.Step.TCP
    assert f"127.0.0.1:{port}" in str(raised.value)


def test_a_certificate_nobody_trusts_fails_at_tls(stand_in: StandIn) -> None:
    with pytest.raises(live.LiveUnreachable) as raised:
        live.probe(stand_in.url)
    assert raised.value.step is live.Step.TLS
    assert "certificate verify failed" in str(raised.value)


def test_a_trusted_host_that_answers_is_reached(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(stand_in.cert))
    reached = live.probe(stand_in.url)
    assert reached.address == "127.0.0.1"
    assert reached.status_line == "HTTP/1.1 200 OK"


def test_a_trusted_host_that_does_not_speak_http_fails_at_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mute = StandIn(tmp_path, b"SSH-2.0-OpenSSH\r\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(mute.cert))
    try:
        with pytest.raises(live.LiveUnreachable) as raised:
            live.probe(mute.url)
    finally:
        mute.close()
    assert raised.value.step is live.Step.HTTP
    assert "not an HTTP answer" in str(raised.value)


def test_the_url_probed_is_the_real_one_unless_a_stand_in_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(live.LIVE_URL_ENV, raising=False)
    assert live.live_url() == "https://web.whatsapp.com/"
    monkeypatch.setenv(live.LIVE_URL_ENV, "https://localhost:8443/")
    assert live.live_url() == "https://localhost:8443/"
