"""Real remote browsers on loopback for the provider tests: a Playwright browser server and
a Chromium with --remote-debugging-port, each in its own process group and temp dir, so
that stopping one kills everything it started and nothing else."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import playwright
import psutil

from qrbench.browsers.local import HARNESS_ARGS

CHROMIUM = os.environ.get("QRBENCH_CHROMIUM", "/usr/bin/chromium")
_DRIVER = Path(playwright.__file__).parent / "driver"
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 5.0
_POLL_S = 0.05
# Chromium refuses to run as root without it, as qrbench's own launcher knows.
_ARGS = [*HARNESS_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]

_LAUNCH_SERVER_JS = """
const { chromium } = require(process.argv[1]);
chromium.launchServer({
  executablePath: process.argv[2], host: '127.0.0.1', args: JSON.parse(process.argv[3]),
}).then((server) => console.log(server.wsEndpoint()));
"""


class RemoteBrowser:
    """One started browser endpoint; `stop()` leaves no process of it behind.

    `command(scratch)` is what to start; its output goes to files (a pipe nobody reads
    would fill and stall Chromium), where `endpoint_pattern` is looked for.
    """

    def __init__(self, command: Callable[[Path], list[str]], endpoint_pattern: str) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="qb-remote-", dir="/tmp"))
        self._output = self.scratch / "output.log"
        with self._output.open("w") as output:
            self._proc = subprocess.Popen(
                command(self.scratch),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "TMPDIR": str(self.scratch)},
            )
        try:
            self.endpoint = self._wait_for(endpoint_pattern)
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> str:
        """HOST:PORT of the endpoint."""
        return urlsplit(self.endpoint).netloc

    def _wait_for(self, pattern: str) -> str:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if match := re.search(pattern, self._output.read_text(errors="replace")):
                return match.group(0)
            if self._proc.poll() is not None:
                break
            time.sleep(_POLL_S)
        output = self._output.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"no endpoint from {self._proc.args}: {output}")

    def processes(self) -> list[psutil.Process]:
        """Every live process of this endpoint: its leader and whatever names its temp dir
        (Playwright starts its browser in a process group of the browser's own)."""
        found = []
        for proc in psutil.process_iter(["cmdline", "status"]):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            args = proc.info["cmdline"] or ()
            if proc.pid == self._proc.pid or any(str(self.scratch) in arg for arg in args):
                found.append(proc)
        return found

    def stop(self) -> None:
        # SIGTERM first: the Playwright server closes its browser on it.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, sig)
            try:
                self._proc.wait(_STOP_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                continue
        left = self.processes()
        for proc in left:
            proc.kill()
        psutil.wait_procs(left, timeout=_STOP_TIMEOUT_S)
        shutil.rmtree(self.scratch, ignore_errors=True)


def playwright_server() -> RemoteBrowser:
    """`chromium.launchServer` run with the Node and package inside Python's playwright;
    it prints its ws:// endpoint."""
    return RemoteBrowser(
        lambda _scratch: [
            str(_DRIVER / "node"),
            "-e",
            _LAUNCH_SERVER_JS,
            str(_DRIVER / "package"),
            CHROMIUM,
            json.dumps(_ARGS),
        ],
        r"ws://127\.0\.0\.1:\d+/\S+",
    )


def cdp_chromium(*extra_args: str) -> RemoteBrowser:
    """A headless Chromium serving the DevTools protocol on a loopback port of its choice;
    its endpoint is the ws:// address it prints ("DevTools listening on ...")."""
    return RemoteBrowser(
        lambda scratch: [
            CHROMIUM,
            "--headless",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            *_ARGS,
            *extra_args,
            f"--user-data-dir={scratch / 'profile'}",
            "about:blank",
        ],
        r"ws://127\.0\.0\.1:\d+/devtools/browser/\S+",
    )
