"""Runs of several sessions against the replica, in real Chromium."""

import json
from pathlib import Path

import pytest

from qrbench.records import PAGE_SERVICE
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import run_profile

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]


@pytest.fixture
def small_world(tmp_path: Path) -> Path:
    """The lan scenario with a lighter page, so real-browser tests stay quick."""
    return write_yaml(tmp_path / "small.yaml", SMALL_WORLD)


def test_run_writes_the_results_contract_and_tells_the_listener(
    tmp_path: Path, small_world: Path
) -> None:
    outcome, listener = run_profile(tmp_path, "extends: optimized\n", small_world, runs=2, warmup=1)
    assert outcome.summary.measured == 2
    assert outcome.summary.succeeded == 2
    document = json.loads(outcome.results_path.read_text())
    assert document["schema_version"] == 1
    assert document["profile"]["browser"]["timeout_ms"] > 0
    assert document["scenario"]["name"] == "small"
    for key in ("chromium", "playwright", "python", "cpu_model", "cpu_cores", "memory_gb"):
        assert document["environment"][key]
    assert [s["warmup"] for s in document["sessions"]] == [True, False, False]
    for record in document["sessions"]:
        assert record["ok"] is True
        assert record["time_to_qr_ms"] > 0
        assert record["resources"]["peak_rss_mb"] > 0
        assert record["resources"]["cpu_time_s"] > 0
        # The LocalAuth profile Chromium left: a real profile dir is megabytes.
        assert record["profile_dir_mb"] > 0.1
    assert document["summary"]["time_to_qr_ms"]["n"] == 2
    assert document["summary"]["profile_dir_mb"]["n"] == 2
    assert listener.events[0] == ("run", 3)
    assert ("start", "profile", 1, True) in listener.events
    assert ("stage", "profile", 2, "qr_wait") in listener.events
    assert listener.events[-1] == ("done", "profile", 3, True)


def _world(tmp_path: Path, name: str, assets: int, asset_kb: int) -> Path:
    page = f"  page:\n    assets: {assets}\n    asset_kb: {asset_kb}\n"
    text = "extends: lan\nreplica:\n  index_kb: 100\n  bundle_kb: 256\n" + page
    return write_yaml(tmp_path / f"{name}.yaml", text)


def test_the_pages_work_is_on_the_sessions_timeline_and_grows_its_profile(
    tmp_path: Path,
) -> None:
    sizes = {}
    for name, assets in (("lean", 0), ("heavy", 100)):
        outcome, _ = run_profile(
            tmp_path / name, "extends: optimized\n", _world(tmp_path, name, assets, 32), runs=1
        )
        [session] = outcome.sessions
        assert session.ok
        assert session.profile_dir_mb is not None
        sizes[name] = session.profile_dir_mb
    # 100 assets of 32 KB: 3.2 MB in Cache Storage, and the disk cache keeps them too.
    assert sizes["heavy"] - sizes["lean"] >= 3.2
    spans = {span.name: span for span in session.spans}
    stages = {stage.name: stage for stage in session.stages}
    boot = spans["page boot"]
    assert {span.service for span in session.spans} == {PAGE_SERVICE}
    assert {"fetch assets", "Cache.put wa-static-assets", "new Worker crypto-worker.js"} < set(
        spans
    )
    # The work starts with the page's load event and the QR comes after it.
    assert stages["page_load"].start_ms < boot.start_ms < stages["qr_wait"].end_ms
    assert boot.end_ms <= stages["qr_wait"].end_ms
    # Every piece lies inside it, up to the rounding of epoch milliseconds held in doubles.
    for span in spans.values():
        assert boot.start_ms - 0.01 <= span.start_ms <= span.end_ms <= boot.end_ms + 0.01


def test_local_cache_persisted_after_load_is_a_hit_next_time(
    tmp_path: Path, small_world: Path
) -> None:
    cache = tmp_path / "cache"
    outcome, _ = run_profile(
        tmp_path,
        f"extends: optimized\nweb_version_cache:\n  type: local\n  path: {cache}\n"
        "  persist: after_load\n",
        small_world,
        runs=2,
    )
    assert [s.web_cache for s in outcome.sessions] == ["miss", "hit"]
    assert all(s.ok for s in outcome.sessions)
    assert list(cache.glob("*.html"))


def test_local_cache_is_never_filled_by_default(tmp_path: Path, small_world: Path) -> None:
    cache = tmp_path / "cache"
    outcome, _ = run_profile(
        tmp_path,
        f"extends: optimized\nweb_version_cache:\n  type: local\n  path: {cache}\n",
        small_world,
        runs=2,
    )
    assert [s.web_cache for s in outcome.sessions] == ["miss", "miss"]
    assert not cache.exists()


def test_remote_cache_is_fetched_from_the_replica_version_host(
    tmp_path: Path, small_world: Path
) -> None:
    outcome, _ = run_profile(tmp_path, "extends: new\n", small_world, runs=1)
    (session,) = outcome.sessions
    assert session.ok, session.error
    assert session.web_cache == "hit"


@pytest.mark.parametrize("engine", ["model", "whatsapp-web.js", "gateway"])
def test_a_cached_index_reaches_the_replica_without_disabling_web_security(
    tmp_path: Path, small_world: Path, engine: str
) -> None:
    # `old`'s flags keep web security on: Chromium's Local Network Access checks then see
    # an index answered by interception as a public page and, unless allowed, block its
    # requests to the replica's loopback hosts (every session timed out).
    profile = (
        f"extends: old\nengine: {engine}\nweb_version_cache:\n  type: remote\n"
        '  remote_path: "http://versions.wa-replica.test/html/{version}.html"\n'
        "browser:\n  timeout_ms: 15000\n  protocol_timeout_ms: 15000\n"
    )
    outcome, _ = run_profile(tmp_path, profile, small_world, runs=1)
    (session,) = outcome.sessions
    assert session.ok, session.error
    # A gateway is timed from outside: its cache is its own business.
    assert session.web_cache == ("unknown" if engine == "gateway" else "hit")


def test_profiles_are_removed_unless_kept(tmp_path: Path, small_world: Path) -> None:
    data = tmp_path / "data"
    profile = f"extends: optimized\nauth:\n  data_path: {data}\n"
    run_profile(tmp_path, profile, small_world, runs=1)
    assert list(data.glob("session-*")) == []
    outcome, _ = run_profile(tmp_path, profile, small_world, runs=1, keep_profiles=True)
    assert outcome.data_path == data
    assert len(list(data.glob("session-*"))) == 1
