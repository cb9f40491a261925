"""The gateway before the first session: started by qrbench (a profile's `command`) or
already running, and answering at `ready` before any session is timed.

A gateway qrbench starts runs in a process group and a marked temp dir of its own (its
TMPDIR and working dir), with its output in a log file. It is stopped with its whole
process tree: SIGTERM to its group first, so it can close its clients' browsers, then
SIGKILL to whatever of the tree is left, Chromiums that puppeteer launched in groups of
their own included. A SIGKILLed qrbench takes the gateway with it (the kernel's parent
death signal) and the next run's sweep stops what ran from its temp dir.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
import psutil

from qrbench.browsers.processes import TreesMemory, tree_memory
from qrbench.config.gateway import Gateway
from qrbench.config.templates import fill
from qrbench.errors import EnvironmentProblem
from qrbench.leftovers import dying_with_this_process, kill_and_wait, owned_tempdir

_TEMP_PREFIX = "qrbench-gateway-"
_STOP_GRACE_S = 10.0
_READY_POLL_S = 0.1
_LOG_LINES_SHOWN = 5


def gateway_tree_memory(me: psutil.Process) -> TreesMemory:
    """The memory of the gateways `me` started: each whole tree, its Node processes and the
    Chromiums they launched. A gateway is known by its working dir, a temp dir of its own."""
    prefix = str(Path(tempfile.gettempdir()) / _TEMP_PREFIX)
    roots = []
    for child in me.children():
        with contextlib.suppress(psutil.Error):
            if child.cwd().startswith(prefix):
                roots.append(child)
    return tree_memory(roots)


def _otlp_env(endpoint: str) -> dict[str, str]:
    if not endpoint:
        return {}
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        # The batch processor's default 5 s would keep a session's spans past its end.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


class GatewayProcess:
    """The gateway's command, running until the `async with` block ends."""

    def __init__(self, gateway: Gateway, values: Mapping[str, str], log_path: Path) -> None:
        self._command = [fill(part, values) for part in gateway.command]
        # A gateway with an OpenTelemetry SDK exports its spans to qrbench, promptly;
        # the profile's own env wins.
        self._env = {
            **_otlp_env(values.get("otlp_endpoint", "")),
            **{name: fill(value, values) for name, value in gateway.env.items()},
        }
        self._template = " ".join(gateway.command)
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._temp_dir: Path | None = None

    async def __aenter__(self) -> Self:
        self._temp_dir = owned_tempdir(_TEMP_PREFIX)
        env = {**os.environ, "TMPDIR": str(self._temp_dir), **self._env}
        try:
            with self.log_path.open("wb") as log:
                self._process = await asyncio.create_subprocess_exec(
                    *self._command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self._temp_dir,
                    start_new_session=True,
                    preexec_fn=dying_with_this_process(),
                )
        except OSError as exc:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            raise EnvironmentProblem(
                f"cannot start the gateway ({self._template}): {exc.strerror or exc}"
            ) from exc
        return self

    def exited(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-_LOG_LINES_SHOWN:])

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._process is not None:
                await _stop(self._process)
        finally:
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)


async def _stop(process: asyncio.subprocess.Process) -> None:
    # Taken before the group is signalled: once the gateway exits, its Chromiums are
    # reparented and no longer found under it.
    descendants = await asyncio.to_thread(_descendants, process.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), _STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    await asyncio.to_thread(kill_and_wait, descendants, _STOP_GRACE_S)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


async def wait_until_ready(
    gateway: Gateway,
    values: Mapping[str, str],
    http: aiohttp.ClientSession,
    process: GatewayProcess | None,
) -> None:
    """Return once the gateway answers: `ready` with a 2xx, or (without `ready`) `url`
    with anything at all. EnvironmentProblem (exit 3) naming the URL otherwise."""
    url = fill(gateway.ready or gateway.url, values)
    template = gateway.ready or gateway.url
    deadline_s = time.monotonic() + gateway.ready_timeout_ms / 1000
    last = "no answer"
    while True:
        if process is not None and process.exited() is not None:
            raise EnvironmentProblem(
                f"the gateway exited with status {process.exited()} before {template} "
                f"answered; its last output ({process.log_path}): {process.log_tail()}"
            )
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                await response.read()
                if gateway.ready is None or response.status // 100 == 2:
                    return
                last = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = type(exc).__name__
        if process is None and gateway.ready is None:
            raise EnvironmentProblem(f"the gateway at {template} is unreachable ({last})")
        if time.monotonic() >= deadline_s:
            raise EnvironmentProblem(
                f"the gateway's {template} did not answer 2xx within "
                f"{gateway.ready_timeout_ms} ms (last: {last})"
            )
        # How often readiness is asked, before any session: no session's time.
        await asyncio.sleep(_READY_POLL_S)
