"""A certificate made per run, so the replica can answer at WhatsApp's real hostnames.

whatsapp-web.js navigates to its own `https://web.whatsapp.com/` and is not patched, so the
replica must speak TLS under that name. Chromium reaches the loopback port through
`--host-resolver-rules` and trusts exactly this certificate's key through
`--ignore-certificate-errors-spki-list` (Chromium honours it only beside a user-data dir,
which every session has). Nothing is written to disk and nothing is added to any trust
store: the key lives as long as the run.
"""

import base64
import datetime
import hashlib
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALID_FOR = datetime.timedelta(days=2)


@dataclass(frozen=True)
class RunCertificate:
    """The run's certificate: a server context for the replica, a pin for Chromium."""

    server_context: ssl.SSLContext
    # base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium wants it.
    spki_sha256: str

    def chromium_args(self) -> list[str]:
        return [f"--ignore-certificate-errors-spki-list={self.spki_sha256}"]


def make_certificate(hostnames: list[str]) -> RunCertificate:
    """A self-signed certificate for `hostnames` and 127.0.0.1, with a fresh P-256 key."""
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
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # ssl loads a chain only from files: they exist for the length of this call.
    with tempfile.TemporaryDirectory(prefix="qrbench-tls-") as directory:
        cert_path, key_path = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(cert_path, key_path)
    return RunCertificate(
        server_context=context,
        spki_sha256=base64.b64encode(hashlib.sha256(spki).digest()).decode(),
    )
