"""The replica's certificates: one per run, or one kept between runs for a fixed port."""

import datetime
import socket
import ssl
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from qrbench.errors import ReplicaError
from qrbench.world.replica import Replica, ReplicaConfig, ReplicaUrls, tls
from qrbench.world.replica.urls import TLS_HOSTS, WHATSAPP_HOST
from tests.helpers import free_ports

HOSTS = list(TLS_HOSTS)


def test_a_run_certificate_is_new_each_time() -> None:
    assert tls.make_certificate(HOSTS).spki_sha256 != tls.make_certificate(HOSTS).spki_sha256


def test_a_kept_certificate_is_the_same_in_every_run(tmp_path: Path) -> None:
    first = tls.kept_certificate(HOSTS, tmp_path)
    assert tls.kept_certificate(HOSTS, tmp_path).spki_sha256 == first.spki_sha256
    # The key is for qrbench alone.
    assert stat.S_IMODE((tmp_path / "replica-key.pem").stat().st_mode) == 0o600


def test_the_state_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tls.STATE_DIR_ENV, str(tmp_path / "state"))
    kept = tls.kept_certificate(HOSTS)
    assert (tmp_path / "state" / "replica-cert.pem").is_file()
    assert tls.kept_certificate(HOSTS).spki_sha256 == kept.spki_sha256


def test_a_kept_certificate_near_its_end_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls, "_KEPT_VALID_FOR", datetime.timedelta(hours=12))
    expiring = tls.kept_certificate(HOSTS, tmp_path)
    monkeypatch.undo()
    renewed = tls.kept_certificate(HOSTS, tmp_path)
    assert renewed.spki_sha256 != expiring.spki_sha256
    certificate = x509.load_pem_x509_certificate((tmp_path / "replica-cert.pem").read_bytes())
    remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    assert remaining > datetime.timedelta(days=30)


@pytest.mark.parametrize(
    "damage",
    [
        lambda directory: (directory / "replica-cert.pem").write_text("not a certificate"),
        lambda directory: (directory / "replica-key.pem").unlink(),
        # A key that is not the certificate's: a half-finished replacement.
        lambda directory: (directory / "replica-key.pem").write_bytes(
            _other_key_pem(directory.parent / "other")
        ),
    ],
    ids=["unreadable certificate", "missing key", "key of another certificate"],
)
def test_a_damaged_kept_certificate_is_made_again(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    directory = tmp_path / "state"
    before = tls.kept_certificate(HOSTS, directory)
    damage(directory)
    after = tls.kept_certificate(HOSTS, directory)
    assert after.spki_sha256 != before.spki_sha256
    assert tls.kept_certificate(HOSTS, directory).spki_sha256 == after.spki_sha256


def test_a_kept_certificate_for_other_names_is_made_again(tmp_path: Path) -> None:
    before = tls.kept_certificate([WHATSAPP_HOST], tmp_path)
    assert tls.kept_certificate(HOSTS, tmp_path).spki_sha256 != before.spki_sha256


def _other_key_pem(directory: Path) -> bytes:
    tls.kept_certificate(HOSTS, directory)
    return (directory / "replica-key.pem").read_bytes()


def test_a_replica_at_a_fixed_port_is_where_its_flags_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tls.STATE_DIR_ENV, str(tmp_path))
    port = free_ports(3)
    spki = tls.kept_certificate(HOSTS).spki_sha256
    announced = ReplicaUrls.at_port("127.0.0.1", port, spki)
    with Replica(ReplicaConfig(port=port)) as urls:
        assert urls == announced
        # It answers there, over TLS, with the kept certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw) as wrapped,
        ):
            der = wrapped.getpeercert(binary_form=True)
    assert der is not None
    served = x509.load_der_x509_certificate(der)
    kept = x509.load_pem_x509_certificate((tmp_path / "replica-cert.pem").read_bytes())
    assert served == kept


def test_a_fixed_port_in_use_is_a_replica_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tls.STATE_DIR_ENV, str(tmp_path))
    port = free_ports(3)
    with (
        socket.create_server(("127.0.0.1", port + 1)),
        pytest.raises(ReplicaError, match=f"127.0.0.1 port {port + 1}"),
    ):
        Replica(ReplicaConfig(port=port)).start()


def test_a_fixed_port_leaves_room_for_the_two_after_it() -> None:
    with pytest.raises(ValueError, match="1-65533"):
        ReplicaConfig(port=65534)
