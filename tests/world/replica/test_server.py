"""The WhatsApp Web replica: origins, content, the ref socket and the page in real Chromium."""

import asyncio
import base64
import itertools
import json
import math
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError

from qrbench.config.models import OriginNetwork
from qrbench.errors import ReplicaError
from qrbench.world.faults import Fault
from qrbench.world.replica import Replica, ReplicaConfig, ReplicaUrls, content, pairing, server
from qrbench.world.replica.content import build_bundles
from qrbench.world.replica.pairing import new_ref, qr_matrix
from qrbench.world.replica.urls import STATIC_HOST, VERSION_HOST, WHATSAPP_HOST
from tests.world.replica.conftest import LaunchChromium
from tests.world.replica.helpers import (
    accepts,
    canvas_text,
    chat_url,
    data_ref,
    decode_qr,
    device_keys,
    http_get,
    kinds,
    loopback_url,
    page_hello,
    port_of,
    receive,
    spki_arg,
)

ALLOW_LOOPBACK_FROM_FULFILLED_PAGES = "--disable-features=LocalNetworkAccessChecks"
# Small enough to start fast wherever size is not what a test checks.
SMALL = ReplicaConfig(index_kb=64, bundle_kb=256)
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"></script>')


def assert_arrived_after(earlier: float, later: float, delay_s: float) -> None:
    # Early is always wrong; late only beyond what a busy machine explains.
    assert delay_s - 0.02 <= later - earlier <= delay_s + 0.25


# -- origins and lifecycle -------------------------------------------------------------------


def test_origins_listen_on_distinct_loopback_ports_only() -> None:
    with Replica(SMALL) as urls:
        assert set(urls.loopback) == {WHATSAPP_HOST, STATIC_HOST, VERSION_HOST}
        assert all(address.startswith("127.0.0.1:") for address in urls.loopback.values())
        ports = {port_of(urls, host) for host in urls.loopback}
        assert len(ports) == 3
        for port in ports:
            assert accepts("127.0.0.1", port)
            # Another loopback address reaches a 0.0.0.0 listener but not a 127.0.0.1 one.
            assert not accepts("127.0.0.2", port)


def test_stop_closes_every_port_and_is_idempotent() -> None:
    replica = Replica(SMALL)
    urls = replica.start()
    try:
        ports = [port_of(urls, host) for host in urls.loopback]
    finally:
        replica.stop()
    assert not any(accepts("127.0.0.1", port) for port in ports)
    assert not any(thread.name == "qrbench-replica" for thread in threading.enumerate())
    replica.stop()


@pytest.mark.parametrize(
    ("config", "before_stop"),
    [
        (SMALL, ["ref"]),
        (replace(SMALL, scan_after_s=30.0), ["ref"]),
        # Logged in, the socket has no timer left and stays open for good.
        (replace(SMALL, scan_after_s=0.1), ["ref", "scanned"]),
    ],
    ids=["ref-timer", "scan-timer", "scanned"],
)
def test_stop_closes_open_websockets_without_waiting_for_their_timers(
    config: ReplicaConfig, before_stop: list[str]
) -> None:
    replica = Replica(config)
    urls = replica.start()

    async def run() -> tuple[float, int | None]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(chat_url(urls), ssl=False) as chat,
        ):
            await chat.send_json(page_hello())
            for kind in before_stop:
                assert (await chat.receive_json())["type"] == kind
            started = time.monotonic()
            stopping = asyncio.create_task(asyncio.to_thread(replica.stop))
            closing = await chat.receive()
            await stopping
            assert closing.type is aiohttp.WSMsgType.CLOSE
            # The code in the frame the replica sent: the close handshake after it may be
            # cut short (1006) when the TLS connection goes down with the server.
            return time.monotonic() - started, closing.data

    try:
        stop_s, close_code = asyncio.run(run())
    finally:
        replica.stop()
    # The first ref lives 60 s; a stop that waited for it or for the shutdown grace is a bug.
    assert stop_s < 1.5
    assert close_code == aiohttp.WSCloseCode.GOING_AWAY


def test_start_failure_raises_replica_error_and_leaves_nothing_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server, "_APP_JS", tmp_path / "missing.js")
    replica = Replica(SMALL)
    with pytest.raises(ReplicaError):
        replica.start()
    assert not any(thread.name == "qrbench-replica" for thread in threading.enumerate())
    replica.stop()


def test_config_rejects_unusable_values() -> None:
    for bad in (
        {"version": "2.3000"},
        {"version": '2.3000.1"; alert(1)'},
        {"refs": 0},
        {"bundles": 0},
        {"first_ttl_s": 0},
        {"next_ttl_s": -1},
        {"scan_after_s": -0.1},
        {"scan_after_s": math.nan},
        {"scan_after_s": math.inf},
        {"chats": -1},
    ):
        with pytest.raises(ValueError):
            ReplicaConfig(**bad)


def test_urls_map_stable_names_to_loopback() -> None:
    with Replica(SMALL) as urls:
        whatsapp = urls.loopback[WHATSAPP_HOST]
        assert urls.whatsapp == "https://web.whatsapp.com/"
        assert urls.static == "https://static.whatsapp.net/"
        assert urls.host_resolver_rules() == ", ".join(
            f"MAP {host} {urls.loopback[host]}"
            for host in (WHATSAPP_HOST, STATIC_HOST, VERSION_HOST)
        )
        assert urls.chromium_args() == [
            f"--host-resolver-rules={urls.host_resolver_rules()}",
            f"--ignore-certificate-errors-spki-list={urls.spki_sha256}",
        ]
        assert urls.to_loopback("wss://web.whatsapp.com/ws/chat?x=1") == (
            f"wss://{whatsapp}/ws/chat?x=1"
        )
        assert urls.to_loopback(urls.version_host + "html/2.3000.1.html") == (
            f"http://{urls.loopback[VERSION_HOST]}/html/2.3000.1.html"
        )
        assert urls.to_loopback("https://example.org/") == "https://example.org/"
        assert urls.index_url_loopback == f"https://{whatsapp}/"


# -- content ---------------------------------------------------------------------------------


def test_index_is_600_kb_and_sets_debug_version() -> None:
    config = ReplicaConfig(bundle_kb=256)
    with Replica(config) as urls:
        status, headers, body = http_get(loopback_url(urls, WHATSAPP_HOST, "/"), WHATSAPP_HOST)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert abs(len(body) - 600 * 1024) <= 0.05 * 600 * 1024
    head = body.split(b"</head>", 1)[0]
    assert b'window.Debug = {VERSION: "2.3000.1017054665"}' in head
    assert b"<progress" in body


def test_index_script_urls_follow_the_host_it_was_requested_under() -> None:
    replica = Replica(SMALL)
    with replica as urls:
        index_url = loopback_url(urls, WHATSAPP_HOST, "/")
        _, _, stable = http_get(index_url, WHATSAPP_HOST)
        _, _, loopback = http_get(index_url)
    names = [f"bundle-{number}.js" for number in range(SMALL.bundles)] + ["app.js"]
    stable_srcs = SCRIPT_SRC.findall(stable.decode())
    loopback_srcs = SCRIPT_SRC.findall(loopback.decode())
    assert stable_srcs == [f"https://static.whatsapp.net/bundles/{name}" for name in names]
    assert loopback_srcs == [
        f"https://{urls.loopback[STATIC_HOST]}/bundles/{name}" for name in names
    ]
    assert abs(len(stable) - len(loopback)) <= 1024
    assert stable == replica.index_html(SMALL.version)


def test_version_host_serves_the_stable_index_by_version() -> None:
    replica = Replica(SMALL)
    with replica as urls:
        known = loopback_url(urls, VERSION_HOST, f"/html/{SMALL.version}.html")
        responses = [http_get(known, VERSION_HOST), http_get(known)]
        unknown = [
            http_get(loopback_url(urls, VERSION_HOST, f"/html/{version}.html"), VERSION_HOST)[0]
            for version in ("2.3000.1", "latest")
        ]
    for status, _, body in responses:
        assert status == 200
        assert body == replica.index_html(SMALL.version)
    assert unknown == [404, 404]


def test_without_stable_names_every_page_names_the_static_origin_by_address() -> None:
    # For remote browsers, which cannot map the stable names: the version host's copy
    # (what a web-version cache stores and serves) must reach the bundles too.
    replica = Replica(replace(SMALL, stable_names=False))
    with replica as urls:
        version_url = loopback_url(urls, VERSION_HOST, f"/html/{SMALL.version}.html")
        pages = [
            http_get(loopback_url(urls, WHATSAPP_HOST, "/"), WHATSAPP_HOST)[2],
            http_get(urls.index_url_loopback)[2],
            http_get(version_url)[2],
        ]
    for page in pages:
        srcs = SCRIPT_SRC.findall(page.decode())
        assert srcs and all(
            src.startswith(f"https://{urls.loopback[STATIC_HOST]}/") for src in srcs
        )


def test_version_host_answers_over_the_scenarios_link() -> None:
    link = OriginNetwork(latency_ms=150, download_kbps=800)  # 800 kbps: 100 000 bytes/s
    replica = Replica(replace(SMALL, index_kb=100, version_host_network=link))
    with replica as urls:
        known = loopback_url(urls, VERSION_HOST, f"/html/{SMALL.version}.html")
        started = time.monotonic()
        status, _, body = http_get(known, VERSION_HOST)
        elapsed_s = time.monotonic() - started
    assert status == 200
    assert body == replica.index_html(SMALL.version)
    # The round trip first, then ~100 KB at the link's rate (less the clock's granularity).
    assert elapsed_s >= 0.150 + len(body) / 100_000 - 0.01


def test_bundles_total_bundle_kb_of_uncacheable_javascript() -> None:
    config = ReplicaConfig(index_kb=64)
    with Replica(config) as urls:
        _, _, index = http_get(loopback_url(urls, WHATSAPP_HOST, "/"))
        responses = [http_get(src) for src in SCRIPT_SRC.findall(index.decode())]
        missing = http_get(loopback_url(urls, STATIC_HOST, "/bundles/bundle-99.js"))[0]
    bundle_bytes = sum(len(body) for _, _, body in responses[:-1])
    assert abs(bundle_bytes - 4096 * 1024) <= 0.05 * 4096 * 1024
    for status, headers, _ in responses:
        assert status == 200
        assert headers["Content-Type"].startswith("application/javascript")
        assert headers["Cache-Control"] == "no-store"
    assert missing == 404


def test_bundles_are_deterministic_per_version() -> None:
    assert build_bundles("2.3000.1", 64, 2) == build_bundles("2.3000.1", 64, 2)
    assert build_bundles("2.3000.1", 64, 2) != build_bundles("2.3000.2", 64, 2)


# -- the ref socket --------------------------------------------------------------------------


def test_websocket_pushes_refs_at_their_ttls_then_says_they_ran_out() -> None:
    config = ReplicaConfig(index_kb=64, bundle_kb=64, refs=3, first_ttl_s=0.6, next_ttl_s=0.2)
    with Replica(config) as urls:
        received, still_open = receive(chat_url(urls), within_s=10.0)
    assert kinds(received) == ["ref", "ref", "ref", "refs-exhausted"]
    assert not still_open
    arrivals = [arrived for arrived, _ in received]
    for (earlier, later), ttl_s in zip(itertools.pairwise(arrivals), [0.6, 0.2, 0.2], strict=True):
        assert_arrived_after(earlier, later, ttl_s)
    refs = [message["ref"] for _, message in received[:-1]]
    assert len(set(refs)) == 3


@pytest.mark.parametrize(
    ("scan_after_s", "first_ttl_s", "expected"),
    [
        (None, 60.0, ["ref"]),
        # Without the scan, refs would follow at 0.5 s and 0.9 s.
        (0.3, 0.5, ["ref", "scanned"]),
        # Timed from the first ref, not the one on screen; refs would follow at 0.8 s and 1.2 s.
        (0.6, 0.4, ["ref", "ref", "scanned"]),
    ],
    ids=["no-scan", "scan-during-first-ref", "scan-during-second-ref"],
)
def test_scan_ends_ref_rotation_and_keeps_the_socket_open(
    scan_after_s: float | None, first_ttl_s: float, expected: list[str]
) -> None:
    config = ReplicaConfig(
        index_kb=64,
        bundle_kb=64,
        first_ttl_s=first_ttl_s,
        next_ttl_s=0.4,
        scan_after_s=scan_after_s,
    )
    with Replica(config) as urls:
        received, still_open = receive(chat_url(urls), within_s=1.25)
    assert kinds(received) == expected
    assert still_open
    if scan_after_s is not None:
        assert_arrived_after(received[0][0], received[-1][0], scan_after_s)


def test_refs_that_run_out_before_the_scan_end_the_socket_unscanned() -> None:
    config = ReplicaConfig(index_kb=64, bundle_kb=64, refs=1, first_ttl_s=0.3, scan_after_s=0.6)
    with Replica(config) as urls:
        received, still_open = receive(chat_url(urls), within_s=2.0)
    assert kinds(received) == ["ref", "refs-exhausted"]
    assert not still_open


def test_qr_string_has_whatsapp_format() -> None:
    keys = device_keys()
    ref, *key_parts, platform = keys.qr_string(new_ref()).split(",")
    assert ref.startswith("2@")
    assert 80 <= len(ref) <= 100
    assert key_parts == [keys.static, keys.identity, keys.adv]
    assert all(len(base64.b64decode(key, validate=True)) == 32 for key in key_parts)
    assert platform == pairing.DEVICE_PLATFORM
    # A device keeps its keys across refs.
    assert keys.qr_string(new_ref()).split(",")[1:] == [*key_parts, platform]


def test_qr_matrix_encodes_the_qr_string() -> None:
    qr_string = device_keys().qr_string(new_ref())
    rows = qr_matrix(qr_string)
    assert all(len(row) == len(rows) for row in rows)
    quiet, scale = 4, 4
    size = (len(rows) + 2 * quiet) * scale
    image = Image.new("L", (size, size), 255)
    for y, row in enumerate(rows):
        for x, module in enumerate(row):
            if module == "1":
                left, top = (x + quiet) * scale, (y + quiet) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    assert decode_qr(image) == [qr_string]


# -- the chat API ----------------------------------------------------------------------------

CHAT_FIELDS = {"id", "name", "unread", "timestamp", "last_message", "is_group"}
PERSON_ID = re.compile(r"628\d{10}@c\.us")
GROUP_ID = re.compile(r"\d+@g\.us")


def get_chats(urls: ReplicaUrls, query: str) -> tuple[int, dict[str, str], bytes]:
    return http_get(loopback_url(urls, WHATSAPP_HOST, f"/api/chats?{query}"))


def chat_page(urls: ReplicaUrls, query: str) -> dict[str, Any]:
    status, headers, body = get_chats(urls, query)
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    page: dict[str, Any] = json.loads(body)
    return page


def test_chat_pages_cover_every_chat_exactly_once() -> None:
    config = replace(SMALL, chats=1234)
    with Replica(config) as urls:
        pages = [chat_page(urls, f"offset={offset}&limit=500") for offset in range(0, 2000, 500)]
    assert [page["total"] for page in pages] == [1234] * 4
    assert [len(page["chats"]) for page in pages] == [500, 500, 234, 0]
    chats = [chat for page in pages for chat in page["chats"]]
    assert len({chat["id"] for chat in chats}) == 1234
    for chat in chats:
        assert set(chat) == CHAT_FIELDS
        id_pattern = GROUP_ID if chat["is_group"] else PERSON_ID
        assert id_pattern.fullmatch(chat["id"])
        assert chat["name"]
        assert 20 <= len(chat["last_message"]) <= 200
        assert isinstance(chat["unread"], int)
        assert chat["unread"] >= 0
    assert {chat["is_group"] for chat in chats} == {True, False}
    assert any(chat["unread"] for chat in chats)
    timestamps = [chat["timestamp"] for chat in chats]
    assert all(isinstance(timestamp, int) for timestamp in timestamps)
    assert timestamps == sorted(timestamps, reverse=True)


def test_chats_are_the_same_in_every_replica() -> None:
    with Replica(SMALL) as first, Replica(SMALL) as second:
        pages = [chat_page(urls, "offset=4900&limit=200") for urls in (first, second)]
        other_page = chat_page(first, "offset=0&limit=100")
    assert pages[0] == pages[1]
    assert pages[0]["total"] == 5000
    assert len(pages[0]["chats"]) == 100
    assert pages[0]["chats"] != other_page["chats"]


def test_chat_api_caps_the_limit_and_rejects_bad_paging() -> None:
    with Replica(SMALL) as urls:
        capped = chat_page(urls, "offset=0&limit=100000")
        statuses = [
            get_chats(urls, query)[0]
            for query in (
                "offset=-1&limit=10",
                "offset=0&limit=abc",
                "offset=0&limit=0",
                "offset=1.5&limit=10",
                "offset=+1&limit=10",
                "offset=0",
                "limit=10",
            )
        ]
    assert len(capped["chats"]) == server.MAX_CHATS_PER_PAGE == 500
    assert statuses == [400] * 7


# -- the page in real Chromium ---------------------------------------------------------------


@pytest.mark.browser
def test_page_shows_whatsapp_qr_dom_that_decodes_to_data_ref(
    launch_chromium: LaunchChromium,
) -> None:
    with Replica(SMALL) as urls:
        page = launch_chromium(urls.chromium_args()).new_page()
        page.add_init_script(
            "const PageWebSocket = window.WebSocket;"
            "window.WebSocket = function (url) {"
            "  window.readyStateAtConnect = document.readyState;"
            "  return new PageWebSocket(url);"
            "};"
        )
        page.goto(urls.whatsapp)
        canvas = page.wait_for_selector("div[data-ref] canvas")
        assert canvas is not None
        assert canvas.get_attribute("aria-label") == "Scan this QR code to link a device!"
        assert canvas.get_attribute("role") == "img"
        assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("264", "264")
        box = canvas.bounding_box()
        assert box is not None
        assert (box["width"], box["height"]) == (264, 264)
        assert canvas_text(page) == [data_ref(page)]
        assert page.evaluate("window.Debug.VERSION") == SMALL.version
        assert page.evaluate("window.readyStateAtConnect") == "complete"
        assert page.evaluate("document.getElementById('startup-progress').value") == SMALL.bundles
        assert not page.locator("#startup-progress").is_visible()


@pytest.mark.browser
def test_page_redraws_each_ref_then_offers_a_reload_that_reconnects(
    launch_chromium: LaunchChromium,
) -> None:
    config = ReplicaConfig(index_kb=64, bundle_kb=256, refs=2, first_ttl_s=1.0, next_ttl_s=1.0)
    with Replica(config) as urls:
        page = launch_chromium(urls.chromium_args()).new_page()
        page.goto(urls.whatsapp)
        page.wait_for_selector("div[data-ref] canvas")
        first_ref = data_ref(page)
        page.wait_for_function(
            "ref => document.querySelector('div[data-ref]').dataset.ref !== ref", arg=first_ref
        )
        assert canvas_text(page) == [data_ref(page)]
        page.wait_for_selector("div[data-ref]", state="detached", timeout=5000)
        reload_button = page.get_by_role("button", name="Click to reload QR code")
        reload_button.click()
        page.wait_for_selector("div[data-ref] canvas")
        assert data_ref(page) != first_ref
        assert canvas_text(page) == [data_ref(page)]


@pytest.mark.browser
def test_loopback_url_shows_qr_without_host_resolver_rules(
    launch_chromium: LaunchChromium,
) -> None:
    with Replica(SMALL) as urls:
        # The run's certificate still needs trusting: a person's browser asks for that.
        page = launch_chromium([spki_arg(urls)]).new_page()
        page.goto(urls.index_url_loopback)
        page.wait_for_selector("div[data-ref] canvas", timeout=10000)
        assert canvas_text(page) == [data_ref(page)]


@pytest.mark.browser
def test_index_cached_in_another_run_boots_through_route_interception(
    launch_chromium: LaunchChromium,
) -> None:
    # Built by a replica that never listened: only the stable names tie it to this run.
    cached = Replica(SMALL).index_html("2.3000.999")
    with Replica(SMALL) as urls:
        # A fulfilled document counts as public, and Chromium blocks its loopback bundles.
        browser = launch_chromium([*urls.chromium_args(), ALLOW_LOOPBACK_FROM_FULFILLED_PAGES])
        page = browser.new_page()
        page.route(
            urls.whatsapp, lambda route: route.fulfill(body=cached, content_type="text/html")
        )
        page.goto(urls.whatsapp)
        page.wait_for_selector("div[data-ref] canvas", timeout=10000)
        assert page.evaluate("window.Debug.VERSION") == "2.3000.999"


# Records, in the page, the order in which the QR and the chat list first appear: the QR may
# live shorter than Playwright's polling interval.
RECORD_APPEARANCES = """
window.appeared = [];
new MutationObserver(() => {
  for (const [name, selector] of [["qr", "div[data-ref] canvas"], ["chat list", "#pane-side"]]) {
    if (!window.appeared.includes(name) && document.querySelector(selector)) {
      window.appeared.push(name);
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


@pytest.mark.browser
def test_scan_swaps_the_qr_for_the_chat_list_and_the_page_serves_chats(
    launch_chromium: LaunchChromium,
) -> None:
    config = ReplicaConfig(index_kb=100, bundle_kb=256, scan_after_s=0.5)
    with Replica(config) as urls:
        page = launch_chromium(urls.chromium_args()).new_page()
        page.add_init_script(RECORD_APPEARANCES)
        page.goto(urls.whatsapp)
        page.wait_for_selector("#pane-side", state="attached", timeout=10000)
        assert page.evaluate("window.appeared") == ["qr", "chat list"]
        assert page.locator("div[data-ref]").count() == 0
        row_ids = page.locator("#pane-side [role=listitem]").evaluate_all(
            "rows => rows.map((row) => row.dataset.id)"
        )
        assert row_ids
        assert row_ids == [content.chat(index)["id"] for index in range(len(row_ids))]
        chats = page.evaluate("WAReplica.fetchChats(10, 20)")
        assert chats == [content.chat(index) for index in range(10, 30)]
        with pytest.raises(PlaywrightError, match="HTTP 400"):
            page.evaluate("WAReplica.fetchChats(-1, 20)")


# -- faults ------------------------------------------------------------------------------------


def armed_replica(fault: Fault | None) -> Replica:
    replica = Replica(SMALL)
    replica.arm("only", fault)
    return replica


def test_http_500_fault_answers_the_index_without_its_bootstrap() -> None:
    with armed_replica(Fault.HTTP_500) as urls:
        status, _, body = http_get(loopback_url(urls, WHATSAPP_HOST, "/"))
    assert status == 500
    assert b"window.Debug" not in body


def test_hang_fault_accepts_the_socket_and_never_sends_a_ref() -> None:
    with armed_replica(Fault.HANG) as urls:
        received, still_open = receive(chat_url(urls), within_s=0.5)
    assert received == []
    assert still_open


def test_drop_fault_closes_the_socket_before_the_first_ref() -> None:
    with armed_replica(Fault.DROP) as urls:
        received, still_open = receive(chat_url(urls), within_s=2)
    assert received == []
    assert not still_open


def test_bundle_stall_fault_sends_half_of_the_first_bundle_then_nothing() -> None:
    replica = armed_replica(Fault.BUNDLE_STALL)
    with replica as urls:
        first, second = content.script_names(SMALL.bundles)[:2]

        async def read(name: str) -> tuple[int, int, bool]:
            url = loopback_url(urls, STATIC_HOST, f"/bundles/{name}")
            async with aiohttp.ClientSession() as session, session.get(url, ssl=False) as response:
                body = bytearray()
                try:
                    async with asyncio.timeout(1.0):
                        async for chunk in response.content.iter_any():
                            body += chunk
                except TimeoutError:
                    return response.content_length or 0, len(body), True
                return response.content_length or 0, len(body), False

        declared, got, stalled = asyncio.run(read(first))
        assert stalled and got == declared // 2
        declared, got, stalled = asyncio.run(read(second))
        assert not stalled and got == declared


def test_arming_none_ends_the_fault_and_the_replica_refuses_a_browser_crash() -> None:
    replica = armed_replica(Fault.HTTP_500)
    with replica as urls:
        replica.arm("only", None)
        status, _, _ = http_get(loopback_url(urls, WHATSAPP_HOST, "/"))
        assert status == 200
        assert not replica.fault_met("only")
        with pytest.raises(ValueError, match="browser_crash"):
            replica.arm("only", Fault.BROWSER_CRASH)


def test_faults_are_armed_per_session_and_met_only_by_that_session() -> None:
    replica = Replica(SMALL)
    replica.arm("a", Fault.HTTP_500)
    replica.arm("b", None)
    replica.arm("c", Fault.HANG)
    with replica as urls:
        index = loopback_url(urls, WHATSAPP_HOST, "/")
        assert http_get(Replica.session_url(index, "b"))[0] == 200
        assert http_get(Replica.session_url(index, "c"))[0] == 200  # a hang is the socket's
        assert not replica.fault_met("b") and not replica.fault_met("c")
        assert http_get(Replica.session_url(index, "a"))[0] == 500
        assert replica.fault_met("a")
        # With several sessions armed, a request that names none meets no fault.
        assert http_get(index)[0] == 200
        received, _ = receive(Replica.session_url(chat_url(urls), "c"), within_s=0.5)
        assert received == [] and replica.fault_met("c")
        replica.disarm("a")
        assert http_get(Replica.session_url(index, "a"))[0] == 200
        assert not replica.fault_met("a")
