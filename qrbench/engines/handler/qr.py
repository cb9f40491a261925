"""qr_encode and qr_verify: turn the QR string into the image the gateway hands out, and
check that the page's canvas really shows that string."""

import base64
import io
import math
from collections.abc import Awaitable, Callable

import qrcode
import zxingcpp
from PIL import Image
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from qrbench.browsers.failures import translate
from qrbench.config.models import QrOptions
from qrbench.errors import QrMismatch

QR_SELECTOR = "div[data-ref] canvas"
_ERROR_LEVELS = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}
# node-qrcode's default module size when no width is asked for.
_DEFAULT_SCALE = 4


def encode_png_data_url(text: str, config: QrOptions) -> str:
    """The QR image the gateway hands to its caller, as node-qrcode's toDataURL makes it."""
    code = qrcode.QRCode(
        error_correction=_ERROR_LEVELS[config.error_correction], border=config.margin, box_size=1
    )
    code.add_data(text)
    code.make(fit=True)
    modules = code.modules_count + 2 * config.margin
    if config.width is None:
        code.box_size = _DEFAULT_SCALE
        image = code.make_image().get_image()
    else:
        code.box_size = max(1, math.ceil(config.width / modules))
        image = (
            code.make_image()
            .get_image()
            .resize((config.width, config.width), Image.Resampling.NEAREST)
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


async def verify_canvas(page: Page) -> str:
    """Screenshot the QR canvas and decode it; it must read as the page's current data-ref."""

    async def canvas() -> tuple[bytes, str | None]:
        try:
            png = await page.locator(QR_SELECTOR).first.screenshot()
            data_ref = await page.locator("div[data-ref]").first.get_attribute("data-ref")
        except PlaywrightError as exc:
            raise translate(exc) from exc
        return png, data_ref

    return await compare_canvas(canvas)


async def compare_canvas(canvas: Callable[[], Awaitable[tuple[bytes, str | None]]]) -> str:
    """Decode the screenshot `canvas` gives; it must read as the QR string given with it.

    The page rotates refs, so a mismatch is retried once against the fresh ref.
    """
    decoded = ""
    for _ in range(2):
        png, expected = await canvas()
        decoded = decode_qr(png)
        if decoded == expected:
            return decoded
    raise QrMismatch(f"canvas decodes to {decoded[:40]!r}, the QR string differs")


def decode_qr(png: bytes) -> str:
    # Only QR codes: with every format on, zxing sometimes also reads a 1-D code inside it.
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return found[0].text if found else ""
