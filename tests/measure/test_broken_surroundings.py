"""qrbench when its surroundings break mid-run, each made real: a receiver process that
dies, a results directory that fills up, a browser the kernel kills, an address this
machine does not have, a tiny /dev/shm, two runs writing to one directory at once.

Each checks that every finished session is still in the results file, that the run says
what broke, and that the exit code is the README's."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from qrbench.measure.runner import run
from tests.fakes import plan_for
from tests.helpers import qrbench_with_small_shm, write_yaml
from tests.run_helpers import RecordingListener

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


def start_run(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qrbench", "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout + stderr


def sessions_in(path: Path) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = json.loads(path.read_text())["sessions"]
    return sessions


def wait_for_sessions(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    """Until the results file holds `count` sessions (the run rewrites it after each)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if len(sessions_in(path)) >= count:
                return
        except (OSError, ValueError):
            pass  # not written yet
        time.sleep(0.05)
    pytest.fail(f"{path} never held {count} sessions")


class _Accepting(BaseHTTPRequestHandler):
    """A gateway's webhook endpoint: takes the QR and answers 200."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def webhook_receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_sessions_after_the_webhook_receiver_dies_fail_in_webhook(tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        port = receiver.server_address[1]
        profile = write_yaml(
            tmp_path / "hooked.yaml",
            "extends: optimized\n"
            f"webhook:\n  mode: blocking\n  url: http://127.0.0.1:{port}/hook\n"
            "  timeout_ms: 2000\n  secret: test-secret\n",
        )
        results = tmp_path / "results.json"
        run = start_run("-p", str(profile), "-n", "4", "-w", "0", "-o", str(results), cwd=tmp_path)
        wait_for_sessions(results, 2, run)
        receiver.shutdown()  # the receiver dies; its port refuses from now on
        receiver.server_close()
        code, shown = finish(run)

    sessions = sessions_in(results)
    assert code == 0, shown  # the run finished: read its verdict
    assert [session["number"] for session in sessions] == [1, 2, 3, 4]
    assert all(session["error"] is None for session in sessions[:2])
    failed = [session for session in sessions[2:] if session["error"] is not None]
    assert failed, sessions[2:]
    assert all(session["error"]["stage"] == "webhook" for session in failed)
    assert "webhook" in shown


@as_root
def test_a_full_results_directory_is_one_error_naming_the_path_and_keeps_the_last_file(
    tmp_path: Path,
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    # Room for the first sessions' rewrites, not for all ten.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(full)], check=True)
    try:
        results = full / "results.json"
        run = start_run("-n", "10", "-w", "0", "-o", str(results), cwd=tmp_path)
        code, shown = finish(run)
        kept = sessions_in(results)  # still valid JSON: the last good rewrite
    finally:
        subprocess.run(["umount", str(full)], check=False)

    assert code == 2, shown
    assert f"results file {results}: cannot write (No space left on device)" in shown
    assert "Traceback" not in shown
    assert 1 <= len(kept) < 10
    assert [session["number"] for session in kept] == list(range(1, len(kept) + 1))


def _browser_of(session_suffix: str) -> psutil.Process | None:
    """The root Chromium of the session whose user-data dir ends in `session_suffix`."""
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = process.info["cmdline"] or []
            if "chrom" not in (process.info["name"] or ""):
                continue
            if any(
                arg.startswith("--user-data-dir=") and arg.endswith(session_suffix)
                for arg in cmdline
            ) and not any(arg.startswith("--type=") for arg in cmdline):
                return process
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


class KillsABrowserAtPageLoad(RecordingListener):
    """SIGKILLs session `number`'s Chromium as its page starts loading, as the kernel's
    OOM killer would: no warning, no clean exit."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.killed: int | None = None

    def stage_started(self, label: str, number: int, stage: str) -> None:
        super().stage_started(label, number, stage)
        if number == self.number and stage == "page_load":
            browser = _browser_of(f"-{number}")
            assert browser is not None, "the session's Chromium is not running"
            browser.send_signal(signal.SIGKILL)
            self.killed = browser.pid


def test_a_browser_killed_by_the_kernel_is_one_failed_session_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    plan = plan_for(tmp_path, "extends: optimized\n", runs=3)
    listener = KillsABrowserAtPageLoad(2)

    outcome = asyncio.run(run(plan, listener))

    assert listener.killed is not None
    sessions = sessions_in(plan.results_path)
    assert [session["number"] for session in sessions] == [1, 2, 3]
    assert sessions[0]["error"] is None and sessions[2]["error"] is None
    crashed = sessions[1]["error"]
    assert crashed is not None and crashed["type"] == "BrowserCrashed", crashed
    assert crashed["stage"] in {"page_load", "qr_wait"}
    assert outcome.summary.succeeded == 2


def test_a_replica_address_this_machine_does_not_have_is_exit_3_naming_it(
    tmp_path: Path,
) -> None:
    run = start_run("-n", "1", "-w", "0", "--replica-bind", "192.0.2.1", cwd=tmp_path)
    code, shown = finish(run)

    assert code == 3
    assert "replica cannot listen on 192.0.2.1" in shown
    assert "Traceback" not in shown


@as_root
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_a_tiny_dev_shm_is_explained_with_the_doctors_advice(tmp_path: Path) -> None:
    profile = write_yaml(
        tmp_path / "shm.yaml",
        "extends: optimized\nbrowser:\n  args: [--no-sandbox, --disable-gpu, --no-zygote]\n",
    )
    results = tmp_path / "results.json"
    done = qrbench_with_small_shm(
        "1m", "run", "-p", str(profile), "-n", "2", "-w", "0", "-o", str(results),
        cwd=tmp_path, columns=200,
    )  # fmt: skip

    shown = done.stdout + done.stderr
    assert "/dev/shm: 1 MB" in shown
    assert "add --disable-dev-shm-usage to browser.args" in shown
    sessions = sessions_in(results)
    assert [session["number"] for session in sessions] == [1, 2]
    # Whether Chromium survives a page this small in 1 MB or not, the run says why it may not.
    assert done.returncode in (0, 3), shown


def test_two_runs_into_one_results_directory_at_once_write_two_intact_files(
    tmp_path: Path,
) -> None:
    runs = [start_run("-n", "1", "-w", "0", cwd=tmp_path) for _ in range(2)]
    outcomes = [finish(run) for run in runs]

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    files = sorted((tmp_path / "results").glob("*.json"))
    assert len(files) == 2, files
    for path in files:
        document = json.loads(path.read_text())
        assert document["status"] == "complete"
        assert [session["number"] for session in document["sessions"]] == [1]
