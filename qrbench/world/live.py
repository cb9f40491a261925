"""The live world: the real WhatsApp Web over the internet, instead of the local replica.

Sessions in it open the real `https://web.whatsapp.com/` with no host mapping and take
the web version from wherever the profile's cache says. Before any session, `probe` makes
sure the host answers, one step at a time, so that a machine without the network fails
in seconds, naming the host and the step, not after a session's timeouts.
"""

import os
import socket
import ssl
import threading
from dataclasses import dataclass
from enum import StrEnum
from queue import Empty, Queue
from urllib.parse import urlsplit

from qrbench.errors import EnvironmentProblem

LIVE_URL = "https://web.whatsapp.com/"
# Where `probe` looks for the live world: the real WhatsApp Web unless set. Tests point it
# at a stand-in on loopback; the sessions themselves always open the real host.
LIVE_URL_ENV = "QRBENCH_LIVE_URL"
# Each step's limit: four steps stay well under the 5 s a failing run should take.
STEP_TIMEOUT_S = 1.0


class Step(StrEnum):
    DNS = "DNS lookup"
    TCP = "TCP connect"
    TLS = "TLS handshake"
    HTTP = "HTTP request"


class LiveUnreachable(EnvironmentProblem):
    """The live world's host did not answer at `step`."""

    def __init__(self, host: str, step: Step, detail: str) -> None:
        super().__init__(
            f"the live world is unreachable: {host}: {step} failed ({detail}); it needs a "
            "network that reaches WhatsApp (qrbench doctor --live checks it), the local "
            "replica (--world replica) needs none"
        )
        self.host = host
        self.step = step


@dataclass(frozen=True)
class Reached:
    address: str
    status_line: str


def live_url() -> str:
    return os.environ.get(LIVE_URL_ENV) or LIVE_URL


def probe(url: str, timeout_s: float = STEP_TIMEOUT_S) -> Reached:
    """`url`'s host resolved, connected to, TLS-verified with the system's trust store and
    asked for `/`; raises LiveUnreachable naming the first step that failed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    address = _resolved(host, port, timeout_s)
    try:
        raw = socket.create_connection((address, port), timeout=timeout_s)
    except OSError as exc:
        raise LiveUnreachable(host, Step.TCP, f"{address}:{port}: {_said(exc)}") from None
    with raw:
        try:
            tls = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        except (OSError, ssl.SSLError) as exc:
            raise LiveUnreachable(host, Step.TLS, _said(exc)) from None
        with tls:
            try:
                request = f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                tls.sendall(request.encode())
                status_line = tls.recv(256).split(b"\r\n", 1)[0].decode("ascii", "replace")
            except OSError as exc:
                raise LiveUnreachable(host, Step.HTTP, _said(exc)) from None
    if not status_line.startswith("HTTP/"):
        raise LiveUnreachable(host, Step.HTTP, f"not an HTTP answer: {status_line!r}")
    return Reached(address, status_line)


def _resolved(host: str, port: int, timeout_s: float) -> str:
    """`host`'s first address. getaddrinfo has no timeout of its own: it runs in a daemon
    thread, abandoned if the resolver does not answer in time."""
    answers: Queue[list[str] | OSError] = Queue()

    def resolve() -> None:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            answers.put([str(entry[4][0]) for entry in found])
        except OSError as exc:
            answers.put(exc)

    threading.Thread(target=resolve, name="qrbench-live-dns", daemon=True).start()
    try:
        answer = answers.get(timeout=timeout_s)
    except Empty:
        raise LiveUnreachable(host, Step.DNS, f"no answer within {timeout_s:g} s") from None
    if isinstance(answer, OSError):
        raise LiveUnreachable(host, Step.DNS, _said(answer))
    return answer[0]


def _said(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
