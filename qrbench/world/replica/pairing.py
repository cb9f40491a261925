"""What the login QR holds: a ref, the linking device's keys, and the QR's modules."""

import base64
import secrets
from dataclasses import dataclass

import qrcode

DEVICE_PLATFORM = "WEB"


@dataclass(frozen=True)
class DeviceKeys:
    """What a linking device shows beside each ref: its noise and identity public keys,
    its ADV secret, its platform. The page makes them (base64 of 32 bytes each) and keeps
    them for its life."""

    static: str
    identity: str
    adv: str
    platform: str = DEVICE_PLATFORM

    def qr_string(self, ref: str) -> str:
        """The login string a QR encodes: `ref,staticKey,identityKey,advSecret,platform`."""
        return ",".join((ref, self.static, self.identity, self.adv, self.platform))


def new_ref() -> str:
    return "2@" + base64.b64encode(secrets.token_bytes(66)).decode()


def qr_matrix(text: str) -> list[str]:
    """The QR modules of `text` as rows of "0"/"1", without quiet zone.

    Real WhatsApp composes the string and encodes the QR in the browser; the replica encodes
    it here so the page needs no JS QR encoder. Drawing the modules costs the page next to
    nothing either way, so timing stays faithful.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=0)
    code.add_data(text)
    code.make(fit=True)
    return ["".join("1" if dark else "0" for dark in row) for row in code.get_matrix()]
