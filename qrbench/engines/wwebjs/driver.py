"""One Node driver process: JSON lines both ways, and the tail of its stderr.

The driver runs in a process group of its own, so Ctrl-C reaches qrbench alone and
qrbench decides how the login ends; the kernel kills it if qrbench dies
(`leftovers.dying_with_this_process`). Its Chromium is found and reaped by user-data dir,
like every browser qrbench starts.
"""

import asyncio
import contextlib
import json
import os
import signal
from collections import deque
from pathlib import Path
from typing import Any

from qrbench.engines.wwebjs.install import DRIVER_DIR, DRIVER_SCRIPT
from qrbench.errors import SessionFailure
from qrbench.leftovers import dying_with_this_process

STDERR_LINES = 10
"""How much of a dead driver's stderr its failure record keeps."""
_CLOSE_GRACE_S = 5.0
# A QR screenshot is ~50 KB of base64: asyncio's default 64 KiB line limit is too tight.
_LINE_LIMIT = 16 * 2**20


class DriverFailed(SessionFailure):
    """The Node driver exited, or said something qrbench cannot read."""


Message = dict[str, Any]


class DriverProcess:
    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._stderr_task: asyncio.Task[None] | None = None

    async def start(self, node: str, temp_dir: Path, user_data_dir: Path) -> None:
        """Start the driver; `user_data_dir` goes on its command line (unused by the driver)
        so that whoever looks for a session's processes (the sweep after a killed run,
        `ps`) finds the driver beside its Chromium."""
        env = {**os.environ, "TMPDIR": str(temp_dir)}
        try:
            self._process = await asyncio.create_subprocess_exec(
                node,
                str(DRIVER_SCRIPT),
                str(user_data_dir),
                cwd=DRIVER_DIR,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
                start_new_session=True,
                preexec_fn=dying_with_this_process(),
            )
        except OSError as exc:
            raise DriverFailed(f"cannot start {node} {DRIVER_SCRIPT}: {exc}") from exc
        self._stderr_task = asyncio.create_task(self._keep_stderr())

    async def _keep_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for line in self._process.stderr:
            self._stderr.append(line.decode(errors="replace").rstrip())

    async def receive(self) -> Message:
        """The driver's next message; DriverFailed when it exited instead."""
        assert self._process is not None and self._process.stdout is not None
        try:
            line = await self._process.stdout.readline()
        except ValueError as exc:  # a line over the limit
            raise DriverFailed(f"the driver wrote an unreadable line: {exc}") from exc
        if not line:
            raise DriverFailed(await self._death())
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise DriverFailed(f"the driver wrote {line[:200]!r}, not JSON") from exc
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise DriverFailed(f"the driver wrote {line[:200]!r}, not a message")
        return message

    async def send(self, message: Message) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message).encode() + b"\n")
            await self._process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise DriverFailed(await self._death()) from exc

    async def _death(self) -> str:
        """What a driver that stopped talking died of: its exit status and last words."""
        assert self._process is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), _CLOSE_GRACE_S)
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 1.0)
        code = self._process.returncode
        status = "still running" if code is None else f"exit status {code}"
        if code is not None and code < 0:
            status = f"killed by {signal.Signals(-code).name}"
        tail = " | ".join(self._stderr) or "no stderr"
        return f"the whatsapp-web.js driver stopped ({status}); stderr: {tail}"

    async def close(self) -> None:
        """Ask the driver to end the login, then make sure it and its group are gone."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(DriverFailed, AssertionError):
                await self.send({"type": "close"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), _CLOSE_GRACE_S)
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
