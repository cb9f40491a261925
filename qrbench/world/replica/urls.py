"""Where a browser finds the replica: WhatsApp's real host names, their loopback
addresses, and the Chromium flags that map one to the other and trust the run's key."""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from qrbench.world.loopback import reachable_as

WHATSAPP_HOST = "web.whatsapp.com"
STATIC_HOST = "static.whatsapp.net"
VERSION_HOST = "versions.wa-replica.test"
TLS_HOSTS = (WHATSAPP_HOST, STATIC_HOST)


# What lets a replica page answered by interception reach the replica's loopback hosts
# (see Session.replica_origin), for a launcher that merges --disable-features lists, as
# puppeteer does. Playwright keeps only the last such flag, which would replace its own
# list: the model engine grants the Local Network Access permission instead, which
# puppeteer 24 with Chromium 156 did not honour (measured: every session still failed).
DISABLE_LOOPBACK_CHECKS = "--disable-features=LocalNetworkAccessChecks"


@dataclass(frozen=True)
class ReplicaUrls:
    whatsapp: str
    static: str
    version_host: str
    loopback: dict[str, str]
    # Pins the run's certificate in Chromium (see tls.py).
    spki_sha256: str

    @classmethod
    def of(cls, loopback: dict[str, str], spki_sha256: str) -> "ReplicaUrls":
        """The replica's URLs, its origins at these "HOST:PORT" (TLS hosts and version host)."""
        return cls(
            whatsapp=f"https://{WHATSAPP_HOST}/",
            static=f"https://{STATIC_HOST}/",
            version_host=f"http://{VERSION_HOST}/",
            loopback=loopback,
            spki_sha256=spki_sha256,
        )

    @classmethod
    def at_port(cls, bind_address: str, port: int, spki_sha256: str) -> "ReplicaUrls":
        """Where a replica at a fixed `port` (and the two after it) is, before it listens."""
        host = reachable_as(bind_address)
        hosts = [*TLS_HOSTS, VERSION_HOST]
        loopback = {name: f"{host}:{port + offset}" for offset, name in enumerate(hosts)}
        return cls.of(loopback, spki_sha256)

    def host_resolver_rules(self) -> str:
        """The value of Chromium's `--host-resolver-rules` that reaches the stable names."""
        return ", ".join(f"MAP {host} {address}" for host, address in self.loopback.items())

    def chromium_args(self) -> list[str]:
        """What a Chromium needs to open the replica at the stable names over TLS."""
        return [
            f"--host-resolver-rules={self.host_resolver_rules()}",
            f"--ignore-certificate-errors-spki-list={self.spki_sha256}",
        ]

    def to_loopback(self, url: str) -> str:
        """`url` with a stable host name replaced by its 127.0.0.1:PORT; others unchanged."""
        parts = urlsplit(url)
        address = self.loopback.get(parts.hostname or "")
        return url if address is None else urlunsplit(parts._replace(netloc=address))

    @property
    def index_url_loopback(self) -> str:
        """The page for a person's browser, which knows nothing of the stable names."""
        return self.to_loopback(self.whatsapp)
