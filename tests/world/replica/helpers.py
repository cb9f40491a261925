"""What the replica's tests share: requests to its origins, its socket, its page's QR,
and a page's hello."""

import asyncio
import base64
import contextlib
import io
import secrets
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import zxingcpp
from PIL import Image
from playwright.sync_api import Page

from qrbench.world.replica import ReplicaUrls
from qrbench.world.replica.pairing import DeviceKeys
from qrbench.world.replica.urls import TLS_HOSTS, WHATSAPP_HOST
from tests.helpers import REPLICA_TLS


def http_get(url: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=REPLICA_TLS) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def loopback_url(urls: ReplicaUrls, host: str, path: str) -> str:
    scheme = "https" if host in TLS_HOSTS else "http"
    return f"{scheme}://{urls.loopback[host]}{path}"


def port_of(urls: ReplicaUrls, host: str) -> int:
    return int(urls.loopback[host].rsplit(":", 1)[1])


def accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except ConnectionRefusedError:
        return False


def chat_url(urls: ReplicaUrls) -> str:
    return f"wss://{urls.loopback[WHATSAPP_HOST]}/ws/chat"


def decode_qr(image: Image.Image) -> list[str]:
    # Searching every format now and then also "finds" a 1D barcode inside the QR's modules.
    barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in barcodes]


Received = list[tuple[float, dict[str, Any]]]


def receive(
    url: str, within_s: float, hello: dict[str, Any] | None = None
) -> tuple[Received, bool]:
    """The JSON messages of one /ws/chat connection within `within_s`, each with its monotonic
    arrival time, and whether the server still held the socket open at the end. The socket
    opens with `hello` (default: a page's with new keys and no work)."""

    async def run() -> tuple[Received, bool]:
        received: Received = []
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, ssl=False) as chat,
        ):
            with contextlib.suppress(ConnectionResetError):
                await chat.send_json(page_hello() if hello is None else hello)
            deadline = time.monotonic() + within_s
            while (remaining_s := deadline - time.monotonic()) > 0:
                try:
                    message = await chat.receive(timeout=remaining_s)
                except TimeoutError:
                    break
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                received.append((time.monotonic(), message.json()))
            return received, not chat.closed

    return asyncio.run(run())


def kinds(received: Received) -> list[str]:
    return [message["type"] for _, message in received]


def spki_arg(urls: ReplicaUrls) -> str:
    return f"--ignore-certificate-errors-spki-list={urls.spki_sha256}"


def canvas_text(page: Page) -> list[str]:
    screenshot = page.locator("div[data-ref] canvas").screenshot()
    return decode_qr(Image.open(io.BytesIO(screenshot)))


def data_ref(page: Page) -> str | None:
    return page.locator("div[data-ref]").get_attribute("data-ref")


def device_keys() -> DeviceKeys:
    """Keys as a page makes them: three base64 strings of 32 random bytes."""
    return DeviceKeys(*(base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3)))


def page_span(name: str, span_id: str, parent: str | None = None, **given: Any) -> dict[str, Any]:
    return {
        "name": name,
        "id": span_id,
        "parent": parent,
        "start": 1_796_000_000_000.25,
        "end": 1_796_000_000_012.75,
        "ok": True,
        **given,
    }


def page_hello(keys: DeviceKeys | None = None, work: list[Any] | None = None) -> dict[str, Any]:
    """The first socket message of the replica's page."""
    keys = keys or device_keys()
    return {
        "type": "hello",
        "keys": {"static": keys.static, "identity": keys.identity, "adv": keys.adv},
        "work": work or [],
    }
