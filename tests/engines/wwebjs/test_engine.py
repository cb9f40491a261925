"""The real whatsapp-web.js on the replica, in real Chromium: stages, faults, leftovers."""

import itertools
import json
from pathlib import Path

import psutil
import pytest

from qrbench.records import SessionResult, Stage
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import run_profile

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]

REAL = "extends: optimized\nengine: whatsapp-web.js\n"
ENGINE_STAGES = [
    Stage.AUTH_RESTORE,
    Stage.BROWSER_LAUNCH,
    Stage.WEB_VERSION,
    Stage.PAGE_LOAD,
    Stage.QR_WAIT,
]


def world(tmp_path: Path, extra: str = "") -> Path:
    return write_yaml(tmp_path / "world.yaml", SMALL_WORLD + extra)


def node_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running() and child.status() != psutil.STATUS_ZOMBIE and "node" in child.name()
    ]


def only_session(results: list[SessionResult]) -> SessionResult:
    (session,) = results
    return session


def test_real_library_shows_a_verified_qr_with_the_model_engines_stages(tmp_path: Path) -> None:
    outcome, listener = run_profile(tmp_path, REAL, world(tmp_path), runs=2)

    for session in outcome.sessions:
        assert session.ok, session.error
        # qr_verify decoded the canvas to the very string the library emitted.
        assert not session.background_errors
        names = [stage.name for stage in session.stages]
        assert names[: len(ENGINE_STAGES) + 1] == [Stage.ROUTE, *ENGINE_STAGES]
        assert Stage.QR_VERIFY in names
        critical = [stage for stage in session.stages if stage.critical]
        # Placed on one clock, in order, without overlap.
        for earlier, later in itertools.pairwise(critical):
            assert earlier.end_ms <= later.start_ms + 0.5
        assert session.time_to_qr_ms == pytest.approx(critical[-1].end_ms, abs=0.2)
        assert session.auth == "localauth"
        assert session.web_cache == "miss"  # optimized: a local cache nobody filled
        assert session.resources is not None and session.resources.peak_rss_mb > 50
    header = json.loads(outcome.results_path.read_text())
    assert header["engine"]["name"] == "whatsapp-web.js"
    assert header["engine"]["version"] == "1.34.7"
    assert header["engine"]["node"].startswith("v")
    stages_announced = [event[3] for event in listener.events if event[0] == "stage"]
    assert stages_announced[:6] == [Stage.ROUTE, *ENGINE_STAGES]
    assert not node_children()


def test_remote_auth_restores_through_the_libraries_redis_store(tmp_path: Path) -> None:
    profile = (
        REAL
        + "auth:\n  strategy: remoteauth\n  remoteauth_for: all\n  store:\n    backend: redis\n"
    )
    restoring = world(tmp_path, "remote_session:\n  present: true\n  size_mb: 1\n")
    outcome, _ = run_profile(tmp_path, profile, restoring, runs=1)
    session = only_session(outcome.sessions)
    assert session.ok, session.error
    assert session.auth == "remoteauth"
    restore = next(stage for stage in session.stages if stage.name == Stage.AUTH_RESTORE)
    # Fetched from Redis and unzipped by the library: more than making a directory.
    assert restore.duration_ms > 5


@pytest.mark.parametrize(
    ("fault", "knobs", "stage", "error"),
    [
        # No ref ever comes: the library's evaluate waits until protocolTimeout.
        ("hang", "  protocol_timeout_ms: 3000\n", Stage.QR_WAIT, "ProtocolTimeout"),
        # No window.Debug.VERSION on an error page: the library's authTimeoutMs.
        ("http_500", "  auth_timeout_ms: 2000\n", Stage.QR_WAIT, "AuthTimeout"),
        # The library sets no navigation limit; qrbench's cap ends it.
        ("bundle_stall", "  navigation_timeout_ms: 3000\n", Stage.PAGE_LOAD, "NavigationFailed"),
        ("browser_crash", "", Stage.PAGE_LOAD, "BrowserCrashed"),
    ],
)
def test_a_fault_is_a_failed_session_in_its_stage(
    tmp_path: Path, fault: str, knobs: str, stage: str, error: str
) -> None:
    profile = REAL + "browser:\n" + knobs if knobs else REAL
    faulty = world(tmp_path, f"faults:\n  {fault}: 1.0\n")
    outcome, _ = run_profile(tmp_path, profile, faulty, runs=1)
    session = only_session(outcome.sessions)
    assert not session.ok
    assert session.error is not None
    assert (session.error.stage, session.error.type) == (stage, error), session.error
    failed = [s for s in session.stages if not s.ok]
    assert [s.name for s in failed] == [stage]
    assert not node_children()


def test_a_driver_that_dies_is_a_failed_session_with_its_last_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dying = tmp_path / "die.js"
    # Deterministic, however fast the machine: the driver dies as it reports web_version's end.
    dying.write_text(
        "const write = process.stdout.write.bind(process.stdout);\n"
        "process.stdout.write = (chunk, ...rest) => {\n"
        "  if (String(chunk).includes('web_version_end')) {\n"
        "    console.error('driver test: dying on purpose');\n"
        "    process.exit(7);\n"
        "  }\n"
        "  return write(chunk, ...rest);\n"
        "};\n"
    )
    # Only the driver's node: Playwright's own driver is a node too.
    node = tmp_path / "node"
    node.write_text(f'#!/bin/sh\nexec node --require={dying} "$@"\n')
    node.chmod(0o755)
    monkeypatch.setenv("QRBENCH_NODE", str(node))
    outcome, _ = run_profile(tmp_path, REAL, world(tmp_path), runs=1)
    session = only_session(outcome.sessions)
    assert not session.ok
    assert session.error is not None
    assert session.error.type == "DriverFailed"
    assert "exit status 7" in session.error.message
    assert "dying on purpose" in session.error.message
    assert session.error.stage == Stage.WEB_VERSION
    assert not node_children()


def test_the_scenarios_network_reaches_the_real_librarys_page(tmp_path: Path) -> None:
    slow_link = "network:\n  whatsapp:\n    latency_ms: 300\n  static:\n    latency_ms: 300\n"
    fast, _ = run_profile(tmp_path / "fast", REAL, world(tmp_path / "fast"), runs=1)
    slow, _ = run_profile(tmp_path / "slow", REAL, world(tmp_path / "slow", slow_link), runs=1)

    def page_load_ms(session: SessionResult) -> float:
        assert session.ok, session.error
        return next(s.duration_ms for s in session.stages if s.name == Stage.PAGE_LOAD)

    # The index, then the bundles it names: two round trips one after the other, and at
    # least one more than unshaped, however busy the machine (Chromium adds the latency;
    # nothing here sleeps).
    slowed_ms = page_load_ms(only_session(slow.sessions))
    assert slowed_ms >= 2 * 300
    assert slowed_ms - page_load_ms(only_session(fast.sessions)) >= 300
