"""The webhook receiver: signature and freshness checks, pacing, shutdown."""

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from qrbench.config.models import OriginNetwork
from qrbench.world.receiver import Receiver
from qrbench.world.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode_event, sign

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
    assert server.rejections == {}


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
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_requests_are_refused_with_401_and_counted(
    receiver: tuple[Receiver, str], case: str
) -> None:
    server, url = receiver
    build_request, reason = BAD_REQUESTS[case]

    status, text = post(url, *build_request())

    assert (status, text) == (401, reason)
    assert server.rejections == {reason: 1}
    assert server.events == []


def with_headers(timestamp: str | None, signature: str | None) -> dict[str, str]:
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    return {name: value for name, value in headers.items() if value is not None}


def now_stamp() -> str:
    return str(int(time.time()))


# Headers no gateway sends: each is a 400, never a 500 or a crash of the receiver.
MALFORMED_HEADERS: dict[str, Callable[[], dict[str, str]]] = {
    "unsigned": lambda: {},
    "no-signature": lambda: with_headers(now_stamp(), None),
    "no-timestamp": lambda: with_headers(None, sign(SECRET, now_stamp(), EVENT_BODY)),
    "word-timestamp": lambda: with_headers("soon", sign(SECRET, "soon", EVENT_BODY)),
    "negative-timestamp": lambda: with_headers("-1", sign(SECRET, "-1", EVENT_BODY)),
    "fractional-timestamp": lambda: with_headers("1.5", sign(SECRET, "1.5", EVENT_BODY)),
    # More digits than int() converts: this one used to answer 500 with a traceback.
    "oversized-timestamp": lambda: with_headers("9" * 5000, "0" * 64),
    "short-signature": lambda: with_headers(now_stamp(), "abc123"),
    "non-hex-signature": lambda: with_headers(now_stamp(), "z" * 64),
    "oversized-signature": lambda: with_headers(now_stamp(), "a" * 5000),
}


@pytest.mark.parametrize("case", MALFORMED_HEADERS)
def test_malformed_headers_are_refused_with_400_and_counted(
    receiver: tuple[Receiver, str], case: str
) -> None:
    server, url = receiver

    status, text = post(url, EVENT_BODY, MALFORMED_HEADERS[case]())

    assert (status, text) == (400, "malformed header")
    assert server.rejections == {"malformed header": 1}
    assert server.events == []
    # Still serving: the next good request is answered.
    assert post(url, EVENT_BODY, signed_headers(EVENT_BODY))[0] == 200


@pytest.mark.parametrize("body", [b"event=qr_code_generated", b"[1, 2]", b'{"event": 7}'])
def test_signed_body_without_an_event_is_refused_with_400_and_counted(
    receiver: tuple[Receiver, str], body: bytes
) -> None:
    server, url = receiver

    status, text = post(url, body, signed_headers(body))

    assert (status, text) == (400, "malformed body")
    assert server.rejections == {"malformed body": 1}
    assert server.events == []


def test_a_replayed_request_is_refused(receiver: tuple[Receiver, str]) -> None:
    server, url = receiver
    headers = signed_headers(EVENT_BODY)

    first = post(url, EVENT_BODY, headers)
    replays = [post(url, EVENT_BODY, headers) for _ in range(3)]

    assert first[0] == 200
    assert replays == [(401, "replayed signature")] * 3
    assert server.rejections == {"replayed signature": 3}
    assert len(server.events) == 1


def test_a_new_request_with_the_same_body_is_accepted(receiver: tuple[Receiver, str]) -> None:
    server, url = receiver
    other = encode_event("qr_code_generated", {"session_id": "session-8", "workspace_id": 8})

    statuses = [post(url, body, signed_headers(body))[0] for body in (EVENT_BODY, other)]

    assert statuses == [200, 200]
    assert server.rejections == {}


def test_signatures_are_forgotten_once_their_timestamp_is_stale() -> None:
    receiver = Receiver(SECRET, max_age_s=1)
    with receiver as url:
        assert post(url, EVENT_BODY, signed_headers(EVENT_BODY))[0] == 200
        assert receiver.remembered == 1
        # Whole-second timestamps: after 2.5 s the first one is more than 1 s old.
        time.sleep(2.5)
        other = encode_event("qr_code_generated", {"session_id": "session-8"})
        assert post(url, other, signed_headers(other))[0] == 200

        assert receiver.remembered == 1


def test_processing_time_is_spent_before_answering() -> None:
    with Receiver(SECRET, processing_ms=400) as url:
        started = time.monotonic()
        status, _ = post(url, EVENT_BODY, signed_headers(EVENT_BODY))
        elapsed_s = time.monotonic() - started

    assert status == 200
    assert 0.4 <= elapsed_s < 2.0


def test_answer_comes_after_the_links_round_trip() -> None:
    with Receiver(SECRET, network=OriginNetwork(latency_ms=300)) as url:
        started = time.monotonic()
        status, _ = post(url, EVENT_BODY, signed_headers(EVENT_BODY))
        elapsed_s = time.monotonic() - started

    assert status == 200
    assert elapsed_s >= 0.3


def test_refusals_cross_the_link_too() -> None:
    with Receiver(SECRET, network=OriginNetwork(latency_ms=300)) as url:
        started = time.monotonic()
        status, _ = post(url, EVENT_BODY, signed_headers(EVENT_BODY, secret="wrong"))
        elapsed_s = time.monotonic() - started

    assert status == 401
    assert elapsed_s >= 0.3


def test_request_body_is_read_at_the_links_upload_rate() -> None:
    # A QR data URL of ~20 KB, as gateways post it; 160 kbps carries 20 000 bytes/s.
    body = encode_event("qr_code_generated", {"session_id": "session-7", "qr": "Q" * 20_000})
    receiver = Receiver(SECRET, network=OriginNetwork(upload_kbps=160))
    with receiver as url:
        started = time.monotonic()
        status, _ = post(url, body, signed_headers(body))
        elapsed_s = time.monotonic() - started

    assert status == 200
    assert elapsed_s >= len(body) / 20_000 - 0.01
    assert [event.size_bytes for event in receiver.events] == [len(body)]


def test_gateway_hanging_up_before_the_answer_arrives_is_not_recorded() -> None:
    receiver = Receiver(SECRET, network=OriginNetwork(latency_ms=1000))
    with receiver as url:
        request = urllib.request.Request(
            url, data=EVENT_BODY, headers=signed_headers(EVENT_BODY), method="POST"
        )
        with pytest.raises(TimeoutError):
            urllib.request.urlopen(request, timeout=0.3)
        time.sleep(1.5)  # the receiver's answer would have crossed the link by now
        assert receiver.events == []


def test_stop_closes_the_port_and_is_idempotent() -> None:
    receiver = Receiver(SECRET)
    address = urlsplit(receiver.start())
    assert post(address.geturl(), EVENT_BODY, signed_headers(EVENT_BODY))[0] == 200

    receiver.stop()
    receiver.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=2).close()
