"""The gateway's signed webhook POST, against qrbench's own receiver."""

import asyncio
import hashlib
import hmac
import json
import re
import time

import aiohttp
import pytest
from aiohttp import web

from qrbench.world.receiver import Receiver
from qrbench.world.webhook import (
    QR_CODE_GENERATED,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookFailed,
    post_event,
    qr_code_generated_payload,
    sign,
)

SECRET = "webhook-test-secret"
# Nothing listens on the discard port of a test machine, so connecting is refused.
CLOSED_URL = "http://127.0.0.1:9/webhook"
PAYLOAD = qr_code_generated_payload(42, "session-42", "data:image/png;base64,iVBORw0KGgo=")


async def post(
    url: str,
    *,
    secret: str = SECRET,
    timeout_ms: int = 10_000,
    data: dict[str, object] = PAYLOAD,
) -> float:
    """Post one `qr_code_generated` on a fresh client session; returns the seconds it took."""
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        await post_event(http, url, secret, QR_CODE_GENERATED, data, timeout_ms)
        return time.monotonic() - started


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    """The signature computed here, without qrbench's code, to check qrbench's against."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def test_signature_is_deterministic_and_covers_secret_timestamp_and_body() -> None:
    signature = sign("secret", "1700000000", b'{"event":"x"}')

    assert signature == sign("secret", "1700000000", b'{"event":"x"}')
    assert re.fullmatch("[0-9a-f]{64}", signature)
    assert signature == hmac_sha256_hex("secret", b'1700000000.{"event":"x"}')
    assert sign("other", "1700000000", b'{"event":"x"}') != signature
    assert sign("secret", "1700000001", b'{"event":"x"}') != signature
    assert sign("secret", "1700000000", b'{"event":"y"}') != signature


def test_signature_cannot_be_moved_between_timestamp_and_body() -> None:
    # Without a separator, "17" + "00x" and "170" + "0x" would sign the same bytes.
    assert sign("secret", "17", b"00x") != sign("secret", "170", b"0x")


def test_qr_code_generated_payload_matches_the_seed() -> None:
    assert qr_code_generated_payload(3, "s-3", "data:qr") == {
        "workspace_id": 3,
        "session_id": "s-3",
        "qr_code": "data:qr",
        "expires_in": 300,
    }


def test_post_event_is_accepted_by_the_receiver() -> None:
    payload = qr_code_generated_payload(1, "séance-1", "data:qr")
    receiver = Receiver(SECRET)
    with receiver as url:
        asyncio.run(post(url, data=payload))

    [event] = receiver.events
    assert (event.event, event.session_id) == (QR_CODE_GENERATED, "séance-1")
    compact_utf8 = json.dumps(
        {"event": QR_CODE_GENERATED, "data": payload}, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert event.size_bytes == len(compact_utf8)


def test_post_event_signs_the_exact_bytes_it_sends() -> None:
    payload = qr_code_generated_payload(7, "séance-7", "data:qr")
    sent: list[tuple[bytes, str, str]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.read()
        sent.append((body, request.headers[SIGNATURE_HEADER], request.headers[TIMESTAMP_HEADER]))
        return web.Response()

    async def post_to_recorder() -> None:
        app = web.Application()
        app.router.add_post("/webhook", record)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            host, port = runner.addresses[0][:2]
            await post(f"http://{host}:{port}/webhook", data=payload)
        finally:
            await runner.cleanup()

    asyncio.run(post_to_recorder())

    [(body, signature, timestamp)] = sent
    assert json.loads(body) == {"event": QR_CODE_GENERATED, "data": payload}
    assert timestamp.isdigit()
    assert re.fullmatch("[0-9a-f]{64}", signature)
    assert signature == hmac_sha256_hex(SECRET, timestamp.encode() + b"." + body)


def test_post_event_fails_naming_401_when_the_secret_is_wrong() -> None:
    with Receiver("the-apps-secret") as url, pytest.raises(WebhookFailed, match="401"):
        asyncio.run(post(url))


def test_post_event_fails_when_nothing_listens() -> None:
    with pytest.raises(WebhookFailed, match=r"127\.0\.0\.1:9"):
        asyncio.run(post(CLOSED_URL))


def test_post_event_gives_up_at_its_timeout() -> None:
    processing_s = 2.0
    receiver = Receiver(SECRET, processing_ms=int(processing_s * 1000))
    with receiver as url:
        started = time.monotonic()
        with pytest.raises(WebhookFailed, match="within 200 ms"):
            asyncio.run(post(url, timeout_ms=200))
        gave_up_after_s = time.monotonic() - started
        # The receiver finishes its work after the gateway left; that is no delivery.
        time.sleep(processing_s)
        assert receiver.events == []

    # Gone well before the receiver answered, with room for a loaded machine's delays.
    assert gave_up_after_s < processing_s * 0.75


def test_post_event_waits_for_the_receivers_processing_time() -> None:
    with Receiver(SECRET, processing_ms=400) as url:
        elapsed_s = asyncio.run(post(url))

    assert 0.4 <= elapsed_s < 2.0
