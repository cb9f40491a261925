"""The real library on a Chromium it did not launch: one started beforehand with
`qrbench serve --replica-port PORT --args`, reached through its DevTools endpoint."""

import json
from pathlib import Path

import pytest

from tests.browsers.servers import cdp_chromium
from tests.helpers import free_ports, qrbench

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]


def test_the_real_library_shows_qrs_through_a_cdp_chromium_started_with_serves_flags(
    tmp_path: Path,
) -> None:
    state = {"QRBENCH_STATE_DIR": str(tmp_path / "state")}
    port = str(free_ports(3))
    flags = qrbench("serve", "--replica-port", port, "--args", cwd=tmp_path, env=state)
    assert flags.returncode == 0, flags.stderr
    browser = cdp_chromium(*flags.stdout.splitlines())
    try:
        results = tmp_path / "run.json"
        for _ in range(2):  # the same browser and flags serve one run after another
            done = qrbench(
                "run",
                *("--profile", "optimized", "--engine", "whatsapp-web.js"),
                *("--runs", "2", "--warmup", "0", "--output", str(results)),
                *("--browser-provider", "cdp", "--browser-endpoint", browser.endpoint),
                *("--replica-port", port),
                cwd=tmp_path,
                env=state,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            document = json.loads(results.read_text())
            assert [session["ok"] for session in document["sessions"]] == [True, True]
            # Its processes are not this machine's to measure: unavailable, not zero.
            assert [session["resources"] for session in document["sessions"]] == [None, None]
            assert document["profile"]["browser"]["replica_port"] == int(port)
            # The library closed its page and let go; the shared browser lives on.
            assert browser.processes()
    finally:
        browser.stop()


def test_the_real_library_on_a_cdp_browser_needs_the_replica_port(tmp_path: Path) -> None:
    done = qrbench(
        "run",
        *("--engine", "whatsapp-web.js", "--runs", "1", "--warmup", "0"),
        *("--browser-provider", "cdp", "--browser-endpoint", "http://127.0.0.1:9"),
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "browser.replica_port" in done.stderr
    assert "qrbench serve --replica-port PORT --args" in done.stderr.replace("\n", " ")
