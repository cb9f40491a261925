"""The work the replica's page does between its `load` event and its socket: what the
server tells it to do (`page_config`), the assets it fetches, and what it reports back in
its `hello` (its public keys and the spans of that work). docs/replica.md."""

import base64
import binascii
import math
import random
import re
from dataclasses import dataclass
from typing import Any

from qrbench.config.models import ReplicaPage
from qrbench.records import PAGE_SERVICE
from qrbench.world.otlp import ReceivedSpan
from qrbench.world.replica.pairing import DeviceKeys

# WhatsApp Web's IndexedDB databases and the stores the page opens before its QR. The page
# keeps its keys in the signal store and its ADV secret with the user's data, where
# whatsapp-web.js reads them back (`waSignalStore.getRegistrationInfo`, `getADVSecretKey`).
SIGNAL_DATABASE = "signal-storage"
USER_DATABASE = "wawc"
SIGNAL_STORES = {
    "identity": "identity-store",
    "signedPreKey": "signed-prekey-store",
    "meta": "signal-meta-store",
}
USER_STORE = "user"
DATABASES: dict[str, list[str]] = {
    SIGNAL_DATABASE: [
        *SIGNAL_STORES.values(),
        "prekey-store",
        "session-store",
        "sender-key-store",
        "base-key-store",
    ],
    USER_DATABASE: [USER_STORE],
    # The account's models: created now, filled only after login.
    "model-storage": ["chat", "contact", "message", "group-metadata", "label", "status"],
}
CACHE_NAME = "wa-static-assets"
SERVICE_WORKER_PATH = "/serviceworker.js"
CRYPTO_WORKER_PATH = "/crypto-worker.js"
ASSET_PREFIX = "/assets/"
# The kinds of file the real index references besides its scripts, in its proportions
# (docs/replica.md): 48 webp, 8 css, 6 wasm, 6 svg.
_ASSET_KINDS = (
    ("webp", "image/webp", 48),
    ("css", "text/css", 8),
    ("wasm", "application/wasm", 6),
    ("svg", "image/svg+xml", 6),
)
_KEY_BYTES = 32
MAX_SPANS = 100
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_MAX_NAME_CHARS = 200


def asset_names(count: int) -> list[str]:
    """The assets' file names, their kinds spread in the real index's proportions."""
    weights = [share for _ext, _type, share in _ASSET_KINDS]
    kinds = random.Random("assets").choices(range(len(_ASSET_KINDS)), weights, k=count)
    return [f"{number}.{_ASSET_KINDS[kind][0]}" for number, kind in enumerate(kinds)]


def asset_content_type(name: str) -> str | None:
    extension = name.rpartition(".")[2]
    return next((kind for ext, kind, _share in _ASSET_KINDS if ext == extension), None)


def asset_body(name: str, kb: int) -> bytes:
    """The asset's bytes: random, so no transfer compresses them away."""
    return random.Random(f"asset:{name}").randbytes(kb * 1024)


def page_config(work: ReplicaPage) -> dict[str, Any]:
    """What the page's `PAGE_WORK` says: its databases, workers and assets' paths (on the
    static host, which the page knows from its own script's URL: a stable name or not)."""
    return {
        "databases": DATABASES,
        "signalDatabase": SIGNAL_DATABASE,
        "signalStores": SIGNAL_STORES,
        "userDatabase": USER_DATABASE,
        "userStore": USER_STORE,
        "cacheName": CACHE_NAME,
        "serviceWorker": SERVICE_WORKER_PATH,
        "cryptoWorker": CRYPTO_WORKER_PATH,
        "assets": [f"{ASSET_PREFIX}{name}" for name in asset_names(work.assets)],
    }


@dataclass(frozen=True)
class Hello:
    keys: DeviceKeys
    # On the browser's wall clock, as the spans a traced gateway sends; service
    # PAGE_SERVICE, no trace.
    spans: list[ReceivedSpan]


class HelloError(ValueError):
    """The page's first socket message is not a hello qrbench's page would send."""


def read_hello(message: object) -> Hello:
    """The page's hello, checked: three base64 keys of 32 bytes and at most MAX_SPANS spans."""
    if not isinstance(message, dict) or message.get("type") != "hello":
        raise HelloError("the first message is not a hello")
    keys = message.get("keys")
    if not isinstance(keys, dict):
        raise HelloError("the hello has no keys")
    work = message.get("work")
    if not isinstance(work, list) or len(work) > MAX_SPANS:
        raise HelloError(f"the hello's work is not a list of at most {MAX_SPANS} spans")
    return Hello(
        keys=DeviceKeys(*(_key(keys, name) for name in ("static", "identity", "adv"))),
        spans=[_span(item) for item in work],
    )


def _key(keys: dict[str, object], name: str) -> str:
    text = keys.get(name)
    try:
        raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except binascii.Error:
        raw = b""
    if len(raw) != _KEY_BYTES:
        raise HelloError(f"the hello's {name} key is not {_KEY_BYTES} bytes of base64")
    assert isinstance(text, str)
    return text


def _span(item: object) -> ReceivedSpan:
    if not isinstance(item, dict):
        raise HelloError("a span of the hello's work is not an object")
    name, span_id, parent = item.get("name"), item.get("id"), item.get("parent")
    start, end, ok = item.get("start"), item.get("end"), item.get("ok")
    if not (isinstance(name, str) and 0 < len(name) <= _MAX_NAME_CHARS):
        raise HelloError("a span's name is not a short string")
    if not (_is_id(span_id) and (parent is None or _is_id(parent))):
        raise HelloError(f"span {name!r} has no 16-digit hex id")
    if not (_is_time(start) and _is_time(end) and start <= end and isinstance(ok, bool)):
        raise HelloError(f"span {name!r} has no start <= end in epoch ms, or no ok")
    assert isinstance(span_id, str) and isinstance(start, int | float)
    assert isinstance(end, int | float)
    return ReceivedSpan(
        trace_id="",
        name=name,
        service=PAGE_SERVICE,
        span_id=span_id,
        parent_span_id=parent if isinstance(parent, str) else None,
        start_unix_ns=round(start * 1e6),
        end_unix_ns=round(end * 1e6),
        ok=ok,
    )


def _is_id(value: object) -> bool:
    return isinstance(value, str) and _SPAN_ID.fullmatch(value) is not None


def _is_time(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
