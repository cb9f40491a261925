"""qr_encode and qr_verify: turn the QR string into the image the gateway hands out, and
check that the page's canvas really shows that string."""

import base64
import io
from collections.abc import Awaitable, Callable

import numpy as np
import zxingcpp
from PIL import Image
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from qrbench.browsers.failures import translate
from qrbench.config.models import QrOptions
from qrbench.errors import QrMismatch

QR_SELECTOR = "div[data-ref] canvas"
# node-qrcode's default module size when no width is asked for.
_DEFAULT_SCALE = 4


def encode_png_data_url(text: str, config: QrOptions) -> str:
    """The QR image the gateway hands to its caller, as node-qrcode's toDataURL makes it.

    Encoded by zxing-cpp, compiled as node-qrcode runs JIT-compiled: the pure-Python
    encoder took 21 ms where a gateway spends a few, and that time was on the critical
    path of every session (benchmarks/overhead.py).
    """
    barcode = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level=config.error_correction
    )
    modules = np.asarray(zxingcpp.write_barcode_to_image(barcode, add_quiet_zones=False))
    framed = np.pad(modules, config.margin, constant_values=255)
    width = len(framed) * _DEFAULT_SCALE if config.width is None else config.width
    image = Image.fromarray(framed).resize((width, width), Image.Resampling.NEAREST)
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
