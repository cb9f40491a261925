"""qr_wait, qr_encode, qr_verify: see the QR the moment the page shows it, encode it, check it.

The page itself reports the QR, as whatsapp-web.js does with exposeFunction: a
MutationObserver calls a binding the moment `div[data-ref]` holds a canvas, and the
harness stamps that call on the session clock. Polling with wait_for_selector would
see it up to half a second late.
"""

import asyncio
import base64
import io
import math
from collections.abc import Callable

import qrcode
import zxingcpp
from PIL import Image
from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from qrbench.errors import BrowserCrashed, QrMismatch, QrTimeout
from qrbench.profile import QrOptions
from qrbench.stages.browser import translate

QR_SELECTOR = "div[data-ref] canvas"
BINDING = "__qrbenchQrShown"

WATCH_SCRIPT = f"""
(() => {{
  let lastRef = null;
  const report = () => {{
    const holder = document.querySelector('div[data-ref]');
    if (!holder || !holder.querySelector('canvas')) return;
    const ref = holder.getAttribute('data-ref');
    if (ref && ref !== lastRef) {{ lastRef = ref; window.{BINDING}(ref); }}
  }};
  new MutationObserver(report).observe(document, {{
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-ref'],
  }});
}})();
"""

_ERROR_LEVELS = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}
# node-qrcode's default module size when no width is asked for.
_DEFAULT_SCALE = 4


class QrWatcher:
    """Collects every ref the page shows, stamped on the session clock."""

    def __init__(self, now_ms: Callable[[], float]) -> None:
        self._now_ms = now_ms
        self.refs: list[tuple[float, str]] = []
        self._first: asyncio.Future[tuple[float, str]] = asyncio.get_running_loop().create_future()

    async def install(self, context: BrowserContext, page: Page) -> None:
        await context.expose_binding(BINDING, self._on_ref)
        await context.add_init_script(WATCH_SCRIPT)
        page.on("crash", lambda _: self.fail(BrowserCrashed("the page crashed")))
        context.on("close", lambda _: self.fail(BrowserCrashed("the browser closed")))

    def _on_ref(self, _source: object, data_ref: str) -> None:
        stamp = (self._now_ms(), data_ref)
        self.refs.append(stamp)
        if not self._first.done():
            self._first.set_result(stamp)

    def fail(self, error: Exception) -> None:
        if not self._first.done():
            self._first.set_exception(error)

    async def first_qr(self, timeout_ms: int) -> tuple[float, str]:
        """(time the QR appeared, its data-ref); QrTimeout after `timeout_ms`."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._first), timeout_ms / 1000)
        except TimeoutError:
            raise QrTimeout(f"no QR in the page after {timeout_ms} ms") from None


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
    """Screenshot the QR canvas and decode it; it must read as the page's current data-ref.

    The page rotates refs, so a mismatch is retried once against the fresh ref.
    """
    decoded = ""
    for _ in range(2):
        try:
            png = await page.locator(QR_SELECTOR).first.screenshot()
            data_ref = await page.locator("div[data-ref]").first.get_attribute("data-ref")
        except PlaywrightError as exc:
            raise translate(exc) from exc
        decoded = decode_qr(png)
        if decoded == data_ref:
            return decoded
    raise QrMismatch(f"canvas decodes to {decoded[:40]!r}, data-ref differs")


def decode_qr(png: bytes) -> str:
    # Only QR codes: with every format on, zxing sometimes also reads a 1-D code inside it.
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return found[0].text if found else ""
