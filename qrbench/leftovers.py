"""Temp dirs qrbench can prove are its own, and the sweep of those a killed run left.

Every temp dir qrbench makes (session profiles, a private Redis's, the browser driver's
TMPDIR) holds a marker naming the process that made it: its pid and that process's start
time, so a recycled pid does not pass for the owner. A SIGKILLed run cannot clean up;
the next run's sweep removes the dirs whose owner is gone, and stops what still runs
from them. A dir without a readable marker is not provably qrbench's and is left alone,
and so is every dir of a live owner.
"""

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

# A child server must not outlive a SIGKILLed qrbench: the kernel sends it SIGKILL when
# the thread that started it exits (linux/prctl.h).
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

PREFIX = "qrbench-"
MARKER = ".qrbench-owner"
_KILL_WAIT_S = 3.0


@dataclass(frozen=True)
class Swept:
    directories: list[Path] = field(default_factory=list)
    processes: int = 0


def owned_tempdir(prefix: str) -> Path:
    """A new dir in the temp dir, named `prefix...`, marked as this process's."""
    if not prefix.startswith(PREFIX):
        raise ValueError(f"prefix must start with {PREFIX!r}: the sweep looks only there")
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    me = psutil.Process()
    (directory / MARKER).write_text(json.dumps({"pid": me.pid, "started": me.create_time()}))
    return directory


def dying_with_this_process() -> Callable[[], None]:
    """A `preexec_fn` for a child server: the kernel kills the child when qrbench dies.

    Call it from the thread that lives as long as qrbench (the event loop's): the signal
    follows the thread that started the child, not the process.
    """
    parent = os.getpid()

    def in_child() -> None:
        if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            os._exit(127)
        # Had qrbench died before prctl took effect, no signal would ever come.
        if os.getppid() != parent:
            os._exit(127)

    return in_child


def sweep(temp_dir: Path | None = None) -> Swept:
    """Stop the processes of, and remove, every marked dir whose owner is gone."""
    root = Path(temp_dir or tempfile.gettempdir())
    orphans = [path for path in root.glob(f"{PREFIX}*") if _orphaned(path)]
    if not orphans:
        return Swept()
    stopped = _stop_processes_in(orphans)
    for path in orphans:
        shutil.rmtree(path, ignore_errors=True)
    return Swept(orphans, stopped)


def _orphaned(path: Path) -> bool:
    try:
        info = path.lstat()
        owner = json.loads((path / MARKER).read_text())
        pid, started = owner["pid"], owner["started"]
    except (OSError, ValueError, TypeError, KeyError):
        return False
    # Only our own real dirs: never follow a link, never touch another user's files.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return False
    if type(pid) is not int or not isinstance(started, float | int):
        return False
    return not _alive(pid, started)


def _alive(pid: int, started: float) -> bool:
    try:
        process = psutil.Process(pid)
        # Start times are read from /proc in clock ticks; the same process reads the same.
        return abs(process.create_time() - started) < 0.01 and process.is_running()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # cannot tell: assume alive, never sweep a live run


def _stop_processes_in(directories: list[Path]) -> int:
    """Kill what runs from these dirs: a command line naming one (Chromium's user-data dir,
    Redis's socket) or a working dir inside one (redis-server --dir)."""
    # With a trailing slash, /tmp/qrbench-ab is not mistaken for /tmp/qrbench-abc.
    names = [f"{path}/" for path in directories]
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.pid == os.getpid():
                continue
            where = [*process.cmdline(), process.cwd()]
            if any(name in f"{text}/" for name in names for text in where):
                found.append(process)
    kill_and_wait(found)
    return len(found)


def kill_and_wait(processes: list[psutil.Process], timeout_s: float = _KILL_WAIT_S) -> None:
    """SIGKILL each (one already gone, or a pid since reused, is skipped) and wait for them."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(processes, timeout=timeout_s)
