"""The gateway's webhook call: a signed event POSTed to the team's Laravel app."""

import hashlib
import hmac
import json
import time

import aiohttp

from qrbench.errors import SessionFailure

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
QR_CODE_GENERATED = "qr_code_generated"
QR_EXPIRES_IN_S = 300  # what the seed's gateway tells Laravel
# Enough of a refusal's body to say why, without reading whatever a broken receiver sends.
_REASON_LIMIT_BYTES = 200


class WebhookFailed(SessionFailure):
    """The receiver did not answer 2xx within `webhook.timeout_ms`."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp + "." + body` under `secret`."""
    # The seed signs only the payload and sends the timestamp beside it, so a captured request
    # replays under any fresh timestamp. Signing both binds the timestamp to the body.
    message = timestamp.encode("utf-8") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encode_event(event: str, data: dict[str, object]) -> bytes:
    """The request body: compact UTF-8 JSON `{"event": ..., "data": ...}`."""
    envelope = {"event": event, "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def qr_code_generated_payload(
    workspace_id: int, session_id: str, qr_code: str
) -> dict[str, object]:
    """The `data` of `qr_code_generated`, field for field as the seed's gateway sends it."""
    return {
        "workspace_id": workspace_id,
        "session_id": session_id,
        "qr_code": qr_code,
        "expires_in": QR_EXPIRES_IN_S,
    }


async def post_event(
    http: aiohttp.ClientSession,
    url: str,
    secret: str,
    event: str,
    data: dict[str, object],
    timeout_ms: int,
) -> None:
    """POST one signed event; returns once the receiver answered 2xx, else WebhookFailed."""
    body = encode_event(event, data)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
    }
    try:
        async with http.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000)
        ) as response:
            if response.status // 100 != 2:
                reason = await response.content.read(_REASON_LIMIT_BYTES)
                detail = reason.decode("utf-8", errors="replace").strip() or response.reason
                raise WebhookFailed(f"webhook receiver answered {response.status}: {detail}")
            # Reading the answer lets the caller's session reuse the connection.
            await response.read()
    except TimeoutError as exc:
        raise WebhookFailed(f"webhook receiver did not answer within {timeout_ms} ms") from exc
    except aiohttp.ClientError as exc:
        raise WebhookFailed(f"webhook POST to {url} failed: {exc}") from exc
