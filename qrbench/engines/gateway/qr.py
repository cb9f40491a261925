"""The QR as the gateway hands it over: its string, or a PNG of it that qrbench decodes,
and the check that it is WhatsApp's login string."""

import base64
import binascii
from typing import assert_never

from qrbench.config.gateway import QrFormat
from qrbench.engines.handler.qr import decode_qr
from qrbench.errors import QrUnreadable

_DATA_URL_PREFIX = "data:image/png;base64,"
# WhatsApp's login QR: `ref,noise public key,identity public key,ADV secret[,platform]`,
# the keys and the secret 32 bytes each, base64.
_KEY_BYTES = 32


def qr_string(value: object, qr_format: QrFormat, *, whatsapp_form: bool) -> str:
    """The QR's string from what the gateway answered; QrUnreadable when it is none."""
    if not isinstance(value, str) or not value:
        raise QrUnreadable(f"the QR field holds {type(value).__name__}, not a string")
    match qr_format:
        case QrFormat.TEXT:
            text = value
        case QrFormat.IMAGE:
            try:
                text = decode_qr(_png(value))
            except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError
                raise QrUnreadable(f"the QR image is no readable PNG: {exc}") from None
            if not text:
                raise QrUnreadable("the QR image decodes to no QR code")
        case _:
            assert_never(qr_format)
    if whatsapp_form:
        check_whatsapp_form(text)
    return text


def _png(value: str) -> bytes:
    encoded = value.removeprefix(_DATA_URL_PREFIX)
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise QrUnreadable(
            f"the QR image is neither a PNG data URL nor base64: {value[:40]!r}"
        ) from None
    if not png.startswith(b"\x89PNG"):
        raise QrUnreadable("the QR image is not a PNG")
    return png


def check_whatsapp_form(text: str) -> None:
    parts = text.split(",")
    keys = parts[1:4]
    if len(parts) < 4 or not parts[0] or not all(_is_key(key) for key in keys):
        raise QrUnreadable(f"not WhatsApp's login QR (ref,key,key,secret): {text[:40]!r}")


def _is_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == _KEY_BYTES
    except (binascii.Error, ValueError):
        return False
