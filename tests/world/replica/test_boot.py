"""The replica page's work between load and socket: its hello, its assets, and the page
doing it in real Chromium."""

import base64
import collections
import zlib
from dataclasses import replace
from typing import Any

import pytest

from qrbench.config.models import ReplicaPage
from qrbench.world.replica import Replica, ReplicaConfig, boot
from qrbench.world.replica.boot import HelloError, read_hello
from qrbench.world.replica.urls import STATIC_HOST, WHATSAPP_HOST
from tests.world.replica.conftest import LaunchChromium
from tests.world.replica.helpers import (
    canvas_text,
    chat_url,
    data_ref,
    device_keys,
    http_get,
    loopback_url,
    page_hello,
    page_span,
    receive,
)

ROOT_ID, CHILD_ID = "0123456789abcdef", "fedcba9876543210"


def test_a_hello_gives_the_page_keys_and_its_spans_in_nanoseconds() -> None:
    keys = device_keys()
    work = [page_span("boot", ROOT_ID), page_span("fetch assets", CHILD_ID, ROOT_ID, ok=False)]
    hello = read_hello(page_hello(keys, work))
    assert hello.keys == keys
    root, child = hello.spans
    assert (root.name, root.span_id, root.parent_span_id) == ("boot", ROOT_ID, None)
    assert (child.parent_span_id, child.ok) == (ROOT_ID, False)
    # Epoch milliseconds as a double hold about a quarter of a microsecond.
    assert root.start_unix_ns == pytest.approx(1_796_000_000_000_250_000, abs=1000)
    assert root.end_unix_ns - root.start_unix_ns == pytest.approx(12_500_000, abs=1000)


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != key}


GOOD = page_hello(work=[page_span("boot", ROOT_ID)])
SHORT_KEY = base64.b64encode(bytes(31)).decode()


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("hello", "not a hello"),
        ({**GOOD, "type": "ref"}, "not a hello"),
        (_without(GOOD, "keys"), "no keys"),
        ({**GOOD, "keys": {**GOOD["keys"], "static": SHORT_KEY}}, "static key"),
        ({**GOOD, "keys": {**GOOD["keys"], "adv": "not base64!"}}, "adv key"),
        ({**GOOD, "keys": _without(GOOD["keys"], "identity")}, "identity key"),
        ({**GOOD, "work": {}}, "not a list"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID)] * (boot.MAX_SPANS + 1)}, "at most"),
        ({**GOOD, "work": ["boot"]}, "not an object"),
        ({**GOOD, "work": [page_span("", ROOT_ID)]}, "name"),
        ({**GOOD, "work": [page_span("boot", "xyz")]}, "hex id"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID, parent="ROOT")]}, "hex id"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID, start=5.0, end=4.0)]}, "start <= end"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID, start=float("nan"))]}, "start <= end"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID, end=True)]}, "start <= end"),
        ({**GOOD, "work": [page_span("boot", ROOT_ID, ok="yes")]}, "ok"),
    ],
)
def test_a_malformed_hello_is_refused_with_what_is_wrong(message: object, words: str) -> None:
    with pytest.raises(HelloError, match=words):
        read_hello(message)


def test_assets_are_of_the_real_index_kinds_in_its_proportions() -> None:
    names = boot.asset_names(6800)
    assert names == boot.asset_names(6800)
    assert len(set(names)) == len(names)
    kinds = collections.Counter(name.rpartition(".")[2] for name in names)
    # 48 webp, 8 css, 6 wasm, 6 svg of 68: each within a few points of its share.
    for kind, share in {"webp": 48, "css": 8, "wasm": 6, "svg": 6}.items():
        assert abs(kinds[kind] - share * 100) < 300
    assert boot.asset_content_type("3.wasm") == "application/wasm"
    assert boot.asset_content_type("3.exe") is None


def test_an_asset_is_its_declared_size_and_does_not_compress_away() -> None:
    body = boot.asset_body("0.webp", 16)
    assert len(body) == 16 * 1024
    assert body == boot.asset_body("0.webp", 16) != boot.asset_body("1.webp", 16)
    assert len(zlib.compress(body)) > 0.99 * len(body)


# -- on the replica's origins -----------------------------------------------------------


SMALL = ReplicaConfig(index_kb=64, bundle_kb=256, page=ReplicaPage(assets=5, asset_kb=4))


def test_the_qr_carries_the_keys_the_page_said() -> None:
    keys = device_keys()
    with Replica(SMALL) as urls:
        received, _ = receive(chat_url(urls), within_s=0.5, hello=page_hello(keys))
    [(_, first)] = received
    assert first["type"] == "ref"
    assert first["qr"] == keys.qr_string(first["ref"])
    assert "keys" not in first


@pytest.mark.parametrize("hello", [page_hello(work=[page_span("boot", "xyz")]), {"type": "ref"}])
def test_a_socket_without_a_good_hello_is_closed_before_any_ref(hello: dict[str, Any]) -> None:
    with Replica(SMALL) as urls:
        received, still_open = receive(chat_url(urls), within_s=1.0, hello=hello)
    assert received == []
    assert not still_open


def test_the_first_hello_work_is_kept_for_its_session_until_disarmed() -> None:
    replica = Replica(SMALL)
    replica.arm("s", None)
    replica.arm("t", None)
    work = [page_span("boot", ROOT_ID), page_span("fetch assets", CHILD_ID, ROOT_ID)]
    with replica as urls:
        url = Replica.session_url(chat_url(urls), "s")
        receive(url, within_s=0.3, hello=page_hello(work=work))
        assert [span.name for span in replica.page_spans("s")] == ["boot", "fetch assets"]
        assert replica.page_spans("t") == []
        # A reloaded QR's socket says its keys again, but no work: the first work stays.
        receive(url, within_s=0.3, hello=page_hello())
        assert len(replica.page_spans("s")) == 2
        replica.disarm("s")
        assert replica.page_spans("s") == []


def test_the_static_host_serves_the_assets_and_the_page_origin_its_workers() -> None:
    with Replica(SMALL) as urls:
        names = boot.asset_names(SMALL.page.assets)
        status, headers, body = http_get(loopback_url(urls, STATIC_HOST, f"/assets/{names[0]}"))
        assert status == 200
        assert len(body) == 4 * 1024
        assert headers["Content-Type"] == boot.asset_content_type(names[0])
        assert "immutable" in headers["Cache-Control"]
        beyond = f"/assets/{SMALL.page.assets}.webp"
        assert http_get(loopback_url(urls, STATIC_HOST, beyond))[0] == 404
        for path in (boot.SERVICE_WORKER_PATH, boot.CRYPTO_WORKER_PATH):
            status, headers, body = http_get(loopback_url(urls, WHATSAPP_HOST, path))
            assert status == 200
            assert headers["Content-Type"].startswith("application/javascript")
            assert b"addEventListener" in body


# -- the page in real Chromium ----------------------------------------------------------

WORK_SPANS = {
    "page boot",
    "indexedDB.open signal-storage",
    "indexedDB.open wawc",
    "indexedDB.open model-storage",
    "new Worker crypto-worker.js",
    "crypto.subtle.generateKey noise",
    "crypto.subtle.generateKey identity",
    "crypto.subtle.generateKey signedPreKey",
    "crypto.subtle.sign signedPreKey",
    "IDBObjectStore.put signal-storage",
    "IDBObjectStore.put wawc",
    "navigator.serviceWorker.register",
    "fetch assets",
    "Cache.put wa-static-assets",
}
# What the page keeps, read back as whatsapp-web.js would find it.
KEPT_JS = """async () => {
  const open = (name) => new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const get = (db, store, key) => new Promise((resolve, reject) => {
    const request = db.transaction(store).objectStore(store).get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
  const signal = await open("signal-storage");
  const identity = await get(signal, "identity-store", "identityKeyPair");
  const meta = await get(signal, "signal-meta-store", "noiseKeyPair");
  const user = await get(await open("wawc"), "user", "advSecretKey");
  const cached = await (await caches.open("wa-static-assets")).keys();
  return {
    identity: b64(identity.publicKey),
    noise: b64(meta.publicKey),
    adv: user,
    cached: cached.length,
    workers: (await navigator.serviceWorker.getRegistrations()).length,
    databases: (await indexedDB.databases()).map((db) => db.name).sort(),
  };
}"""


@pytest.mark.browser
def test_the_page_makes_and_keeps_its_keys_and_reports_its_work(
    launch_chromium: LaunchChromium,
) -> None:
    replica = Replica(replace(SMALL, page=ReplicaPage(assets=7, asset_kb=4)))
    replica.arm("s", None)
    with replica as urls:
        page = launch_chromium(urls.chromium_args()).new_page()
        page.goto(Replica.session_url(urls.whatsapp, "s"))
        page.wait_for_selector("div[data-ref] canvas", timeout=10000)
        [qr] = canvas_text(page)
        ref, noise, identity, adv, _platform = qr.split(",")
        assert qr == data_ref(page)
        assert ref.startswith("2@")
        kept = page.evaluate(KEPT_JS)
        spans = replica.page_spans("s")
    assert (kept["noise"], kept["identity"], kept["adv"]) == (noise, identity, adv)
    assert kept["cached"] == 7
    assert kept["workers"] == 1
    assert kept["databases"] == sorted(boot.DATABASES)
    assert {span.name for span in spans} == WORK_SPANS
    assert all(span.ok for span in spans)
    by_name = {span.name: span for span in spans}
    root, worker = by_name["page boot"], by_name["new Worker crypto-worker.js"]
    for span in spans:
        if span.name.startswith("crypto."):
            assert span.parent_span_id == worker.span_id
        elif span is not root:
            assert span.parent_span_id == root.span_id
        assert root.start_unix_ns <= span.start_unix_ns <= span.end_unix_ns <= root.end_unix_ns
