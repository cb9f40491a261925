"""The replica's certificate, so it can answer at WhatsApp's real hostnames.

whatsapp-web.js navigates to its own `https://web.whatsapp.com/` and is not patched, so the
replica must speak TLS under that name. Chromium reaches the loopback port through
`--host-resolver-rules` and trusts exactly this certificate's key through
`--ignore-certificate-errors-spki-list` (Chromium honours it only beside a user-data dir,
which every session has). Nothing is added to any trust store.

A run's certificate is made for it and never written to disk: the key lives as long as the
run. A replica at a fixed port (`browser.replica_port`) serves a browser started before
the run, with the pin in its flags: its certificate is kept in qrbench's state directory
and reused until it nears its end, so the same flags serve every run until then.
"""

import base64
import datetime
import hashlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qrbench.atomic import write_atomic

_RUN_VALID_FOR = datetime.timedelta(days=2)
_KEPT_VALID_FOR = datetime.timedelta(days=90)
# A kept certificate this close to its end is replaced before a run starts on it.
_RENEW_BEFORE = datetime.timedelta(days=1)
STATE_DIR_ENV = "QRBENCH_STATE_DIR"
_CERT_FILE, _KEY_FILE = "replica-cert.pem", "replica-key.pem"


@dataclass(frozen=True)
class RunCertificate:
    """The replica's certificate: a server context for the replica, a pin for Chromium."""

    server_context: ssl.SSLContext
    # base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium wants it.
    spki_sha256: str


def state_dir() -> Path:
    """Where qrbench keeps what outlives a run: $QRBENCH_STATE_DIR, else
    $XDG_STATE_HOME/qrbench, else ~/.local/state/qrbench."""
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "qrbench"


def make_certificate(hostnames: list[str]) -> RunCertificate:
    """A self-signed certificate for `hostnames` and 127.0.0.1, with a fresh P-256 key."""
    cert_pem, key_pem = _issue(hostnames, _RUN_VALID_FOR)
    # ssl loads a chain only from files: they exist for the length of this call.
    with tempfile.TemporaryDirectory(prefix="qrbench-tls-") as directory:
        cert_path, key_path = Path(directory, _CERT_FILE), Path(directory, _KEY_FILE)
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        return _loaded(cert_path, key_path)


def kept_certificate(hostnames: list[str], directory: Path | None = None) -> RunCertificate:
    """The certificate kept in `directory` (the state directory unless given), made there
    when it is missing, unreadable, for other names, or near its end."""
    directory = directory or state_dir()
    cert_path, key_path = directory / _CERT_FILE, directory / _KEY_FILE
    if not _still_good(cert_path, key_path, hostnames):
        cert_pem, key_pem = _issue(hostnames, _KEPT_VALID_FOR)
        # The key is a secret only in that a page served with it is trusted by the
        # browsers pinned to it: a directory of our own, a file for us alone.
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(key_path, key_pem)
        key_path.chmod(0o600)
        write_atomic(cert_path, cert_pem)
    return _loaded(cert_path, key_path)


def _still_good(cert_path: Path, key_path: Path, hostnames: list[str]) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    now = datetime.datetime.now(datetime.UTC)
    return (
        _spki(key.public_key()) == _spki(certificate.public_key())
        and certificate.not_valid_after_utc - now > _RENEW_BEFORE
        and set(hostnames) <= set(names.value.get_values_for_type(x509.DNSName))
    )


def _issue(hostnames: list[str], valid_for: datetime.timedelta) -> tuple[bytes, bytes]:
    """A new self-signed certificate and its key, as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qrbench replica")])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in hostnames]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _loaded(cert_path: Path, key_path: Path) -> RunCertificate:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return RunCertificate(server_context=context, spki_sha256=_spki(certificate.public_key()))


def _spki(public_key: object) -> str:
    der = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
