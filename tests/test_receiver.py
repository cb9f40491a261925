"""The webhook receiver: signature and freshness checks, pacing, shutdown."""

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from qrbench.receiver import Receiver
from qrbench.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode_event, sign

SECRET = "receiver-test-secret"
MAX_AGE_S = 300.0


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver(SECRET, max_age_s=MAX_AGE_S)
    with receiver as url:
        yield receiver, url


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """Status and body text of a raw POST, refusals included."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def signed_headers(body: bytes, *, secret: str = SECRET, offset_s: float = 0) -> dict[str, str]:
    stamp = str(int(time.time() + offset_s))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(secret, stamp, body),
    }


EVENT_BODY = encode_event("qr_code_generated", {"session_id": "session-7", "workspace_id": 7})


def test_signed_fresh_event_is_accepted_and_recorded(receiver: tuple[Receiver, str]) -> None:
    server, url = receiver
    before = time.monotonic()

    status, _ = post(url, EVENT_BODY, signed_headers(EVENT_BODY))

    assert status == 200
    [event] = server.events
    assert (event.event, event.session_id) == ("qr_code_generated", "session-7")
    assert event.size_bytes == len(EVENT_BODY)
    assert before <= event.accepted_at <= time.monotonic()
    assert server.rejected == 0


# Built when the test runs: a timestamp taken at collection would age while other tests run.
BAD_REQUESTS: dict[str, tuple[Callable[[], tuple[bytes, dict[str, str]]], str]] = {
    "tampered-body": (
        lambda: (encode_event("qr_code_generated", {}), signed_headers(EVENT_BODY)),
        "bad signature",
    ),
    "wrong-secret": (
        lambda: (EVENT_BODY, signed_headers(EVENT_BODY, secret="another-secret")),
        "bad signature",
    ),
    "stale-timestamp": (
        lambda: (EVENT_BODY, signed_headers(EVENT_BODY, offset_s=-MAX_AGE_S - 1)),
        "stale timestamp",
    ),
    "future-timestamp": (
        lambda: (EVENT_BODY, signed_headers(EVENT_BODY, offset_s=MAX_AGE_S + 60)),
        "stale timestamp",
    ),
    "non-numeric-timestamp": (
        lambda: (
            EVENT_BODY,
            {TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: sign(SECRET, "soon", EVENT_BODY)},
        ),
        "stale timestamp",
    ),
    "unsigned": (lambda: (EVENT_BODY, {}), "stale timestamp"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_requests_are_refused_with_401_and_not_recorded(
    receiver: tuple[Receiver, str], case: str
) -> None:
    server, url = receiver
    build_request, reason = BAD_REQUESTS[case]

    status, text = post(url, *build_request())

    assert (status, text) == (401, reason)
    assert server.rejected == 1
    assert server.events == []


def test_signed_non_json_is_refused_with_400(receiver: tuple[Receiver, str]) -> None:
    server, url = receiver
    body = b"event=qr_code_generated"

    status, _ = post(url, body, signed_headers(body))

    assert status == 400
    assert server.events == []
    assert server.rejected == 0


def test_processing_time_is_spent_before_answering() -> None:
    with Receiver(SECRET, processing_ms=400) as url:
        started = time.monotonic()
        status, _ = post(url, EVENT_BODY, signed_headers(EVENT_BODY))
        elapsed_s = time.monotonic() - started

    assert status == 200
    assert 0.4 <= elapsed_s < 2.0


def test_stop_closes_the_port_and_is_idempotent() -> None:
    receiver = Receiver(SECRET)
    address = urlsplit(receiver.start())
    assert post(address.geturl(), EVENT_BODY, signed_headers(EVENT_BODY))[0] == 200

    receiver.stop()
    receiver.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=2).close()
