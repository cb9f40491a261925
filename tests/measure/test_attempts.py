"""Attempts, retries and the scenario's faults and links, in real Chromium.

Timeouts here are short (3 s) so a hang costs a few seconds, not the shipped 30.
"""

import asyncio
from pathlib import Path

import pytest

from qrbench.config.load import Load
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Faults
from qrbench.errors import ConfigError
from qrbench.measure.runner import RunOutcome, RunPlan, run
from qrbench.records import SessionResult
from qrbench.world.faults import Fault, draw
from tests.helpers import write_yaml
from tests.run_helpers import RecordingListener, run_profile

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]

TIMEOUT_MS = 3000
SMALL_PAGE = "replica:\n  index_kb: 100\n  bundle_kb: 256\n"


def scenario(tmp_path: Path, text: str, parent: str = "lan") -> Path:
    return write_yaml(tmp_path / "worlds" / "world.yaml", f"extends: {parent}\n{SMALL_PAGE}{text}")


def seed_where(wanted: list[list[Fault | None]], **probabilities: float) -> int:
    """A seed whose sessions 1, 2, ... meet `wanted[session - 1][attempt - 1]`."""
    for seed in range(10_000):
        faults = Faults(seed=seed, **probabilities)
        if all(
            draw(faults, number, attempt) is fault
            for number, attempts in enumerate(wanted, start=1)
            for attempt, fault in enumerate(attempts, start=1)
        ):
            return seed
    raise AssertionError("no seed in 10,000 draws that pattern")


def run_in(
    tmp_path: Path, name: str, profile: str, world: Path, runs: int, warmup: int = 0
) -> RunOutcome:
    directory = tmp_path / name
    directory.mkdir()
    outcome, _ = run_profile(directory, profile, world, runs=runs, warmup=warmup)
    return outcome


def failed_stage_ms(session: SessionResult, stage: str) -> float:
    (failed,) = [timing for timing in session.stages if not timing.ok]
    assert failed.name == stage
    return failed.duration_ms


def test_a_hang_costs_the_timeout_and_a_retry_turns_it_into_a_late_qr(tmp_path: Path) -> None:
    seed = seed_where([[Fault.HANG, None], [None]], hang=0.5)
    world = scenario(tmp_path, f"faults:\n  seed: {seed}\n  hang: 0.5\n")
    profile = f"extends: optimized\nbrowser:\n  protocol_timeout_ms: {TIMEOUT_MS}\n"

    once = run_in(tmp_path, "once", profile, world, runs=2)
    hung, fine = once.sessions
    assert not hung.ok and hung.error is not None and hung.error.type == "ProtocolTimeout"
    # The timeout, never less; a loaded machine adds its scheduling delay on top.
    assert TIMEOUT_MS * 0.95 <= failed_stage_ms(hung, "qr_wait") <= TIMEOUT_MS * 1.5
    assert fine.ok and [a.fault for a in fine.attempts] == [None]

    retried = run_in(tmp_path, "retried", profile + "retry:\n  attempts: 2\n", world, runs=2)
    assert (retried.summary.succeeded, once.summary.succeeded) == (2, 1)
    late, _ = retried.sessions
    lost, last = late.attempts
    assert (lost.fault, last.fault) == ("hang", None)
    assert lost.error is not None and lost.error.type == "ProtocolTimeout"
    # The user waited through the hung attempt: its timeout is inside the time-to-QR.
    assert late.time_to_qr_ms is not None
    # Start and duration are each rounded to 0.1 ms.
    assert last.start_ms >= lost.start_ms + lost.duration_ms - 0.2 >= TIMEOUT_MS
    assert late.time_to_qr_ms > last.start_ms
    assert retried.summary.recovered_by_retry == 1


def test_a_crashed_browser_is_a_recorded_failure_and_the_run_goes_on(tmp_path: Path) -> None:
    world = scenario(tmp_path, "faults:\n  browser_crash: 1.0\n")
    outcome = run_in(tmp_path, "crash", "extends: optimized\n", world, runs=2)
    assert [s.ok for s in outcome.sessions] == [False, False]
    for session in outcome.sessions:
        assert session.error is not None
        assert (session.error.stage, session.error.type) == ("page_load", "BrowserCrashed")
    assert outcome.summary.faults == {"browser_crash": 2}
    assert outcome.results_path.is_file()


@pytest.mark.parametrize(
    ("fault", "browser", "stage", "error", "limit_ms"),
    [
        (Fault.HTTP_500, "auth_timeout_ms: 1500", "qr_wait", "AuthTimeout", 1500),
        (Fault.BUNDLE_STALL, "navigation_timeout_ms: 1500", "page_load", "NavigationFailed", 1500),
        (
            Fault.DROP,
            f"protocol_timeout_ms: {TIMEOUT_MS}",
            "qr_wait",
            "ProtocolTimeout",
            TIMEOUT_MS,
        ),
    ],
)
def test_each_page_fault_fails_where_its_timeout_says(
    tmp_path: Path, fault: Fault, browser: str, stage: str, error: str, limit_ms: int
) -> None:
    world = scenario(tmp_path, f"faults:\n  {fault.value}: 1.0\n")
    outcome = run_in(tmp_path, "fault", f"extends: optimized\nbrowser:\n  {browser}\n", world, 1)
    (session,) = outcome.sessions
    assert session.error is not None
    assert (session.error.stage, session.error.type) == (stage, error)
    # The timeout starts after what comes before it in its stage: in qr_wait, the poll for
    # Debug.VERSION, which shares the page's main thread with its boot work (a busy
    # machine stretches that), so the stage may outlast the limit, never fall short of it.
    assert 0.97 * limit_ms <= failed_stage_ms(session, stage) <= limit_ms + 500
    assert [attempt.fault for attempt in session.attempts] == [fault.value]


def test_an_index_500_never_reaches_a_page_whose_index_a_cache_answers(tmp_path: Path) -> None:
    world = scenario(tmp_path, "faults:\n  http_500: 1.0\n")
    profile = (
        "extends: optimized\nweb_version_cache:\n  type: remote\n"
        "  remote_path: http://versions.wa-replica.test/html/{version}.html\n"
    )
    outcome = run_in(tmp_path, "cached", profile, world, 1)
    (session,) = outcome.sessions
    assert session.ok, session.error
    # Drawn, but never met: it is not reported as a fault that struck.
    assert [attempt.fault for attempt in session.attempts] == [None]
    assert outcome.summary.faults == {}


def test_declared_round_trips_slow_the_stages_that_cross_them(tmp_path: Path) -> None:
    # `new` fetches the index from the version host (remote cache), then loads the page.
    # The fastest of three after a warmup: load on a busy machine only ever adds time, and
    # it adds more than a 60 ms round trip to some sessions' page_load.
    lan = run_in(tmp_path, "lan", "extends: new\n", scenario(tmp_path / "a", ""), 3, warmup=1)
    # typical's static link, slowed down: at 20 Mbit/s the small test bundles arrive while
    # the CPU still parses, and a busy machine's parse jitter hides a 60 ms round trip.
    slower_static = "network:\n  static:\n    download_kbps: 2000\n"
    typical_world = scenario(tmp_path / "b", slower_static, parent="typical")
    typical = run_in(tmp_path, "typical", "extends: new\n", typical_world, 3, warmup=1)
    network = load_scenario(str(typical_world)).network

    def stage_ms(outcome: RunOutcome, name: str) -> float:
        stage = next(s for s in outcome.summary.stages if s.name == name)
        assert stage.timing.n == 3
        return stage.timing.min

    grown_web_version = stage_ms(typical, "web_version") - stage_ms(lan, "web_version")
    assert grown_web_version >= network.version_host.latency_ms
    # The cached index is answered in the browser; its bundles still cross the link.
    assert stage_ms(typical, "page_load") - stage_ms(lan, "page_load") >= network.static.latency_ms


def test_max_qr_retries_gives_up_waiting_for_a_scan(tmp_path: Path) -> None:
    world = scenario(tmp_path, "qr:\n  first_ttl_s: 0.3\n  next_ttl_s: 0.3\nscan_after_ms: 20000\n")
    outcome = run_in(tmp_path, "qr", "extends: optimized\nqr:\n  max_retries: 2\n", world, 1)
    (session,) = outcome.sessions
    assert session.ok  # the QR was shown and handed over; the login is what gave up
    assert session.time_to_ready_ms is None
    assert [(e.stage, e.type) for e in session.background_errors] == [
        ("ready", "QrRetriesExhausted")
    ]
    # As whatsapp-web.js: the QR over the limit still goes out, then the client stops.
    assert session.refs_delivered == 3


def test_page_faults_need_the_replica(tmp_path: Path) -> None:
    world = scenario(tmp_path, "faults:\n  hang: 0.1\n")
    with pytest.raises(ConfigError, match="injects hang, which only the local replica can"):
        run_in(
            tmp_path,
            "custom",
            "extends: optimized\ntarget:\n  url: http://127.0.0.1:9/\n",
            world,
            1,
        )


@pytest.mark.parametrize("engine", ["model", "whatsapp-web.js"])
def test_with_sessions_in_flight_each_fault_strikes_and_is_recorded_on_its_own_session(
    tmp_path: Path, engine: str
) -> None:
    probabilities = {"hang": 0.3, "bundle_stall": 0.3, "http_500": 0.2}
    world_text = "faults:\n  seed: 7\n" + "".join(f"  {k}: {v}\n" for k, v in probabilities.items())
    world = load_scenario(str(scenario(tmp_path, world_text)))
    profile = load_profile(
        str(
            write_yaml(
                tmp_path / "p.yaml",
                f"extends: optimized\nengine: {engine}\nbrowser:\n  protocol_timeout_ms: 2500\n"
                "  auth_timeout_ms: 2500\n  navigation_timeout_ms: 2500\n",
            )
        )
    )
    plan = RunPlan(
        profile=profile,
        scenario=world,
        runs=8,
        warmup=0,
        results_path=tmp_path / "r.json",
        load=Load(concurrency=4),
    )
    outcome = asyncio.run(run(plan, RecordingListener()))

    expected_error = {
        Fault.HANG: "ProtocolTimeout",
        Fault.BUNDLE_STALL: "NavigationFailed",
        Fault.HTTP_500: "AuthTimeout",
    }
    drawn = [draw(world.faults, session.number, 1) for session in outcome.sessions]
    # The seed mixes struck and clean sessions, several kinds in flight together.
    assert None in drawn and len({fault for fault in drawn if fault}) >= 2
    for session, fault in zip(outcome.sessions, drawn, strict=True):
        (attempt,) = session.attempts
        assert attempt.fault == (fault.value if fault else None), session.number
        if fault is None:
            assert session.ok, session.error
        else:
            assert session.error is not None
            assert session.error.type == expected_error[fault], (session.number, session.error)
