"""Chromium's process tree: resource samples while a session runs, and reaping after it.

Chromium processes are found by the `--user-data-dir` every session gets a unique one of,
not by parentage: when the Playwright driver dies first (Ctrl-C reaches the whole process
group) its browsers are re-parented, and we must still find and stop them.
"""

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil

from qrbench.leftovers import kill_and_wait
from qrbench.records import ResourceUsage

SAMPLE_INTERVAL_S = 0.1


def _owns(proc: psutil.Process, user_data_dir: Path) -> bool:
    flag = f"--user-data-dir={user_data_dir}"
    try:
        return any(arg == flag for arg in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def browser_processes(user_data_dir: Path) -> list[psutil.Process]:
    """Every live process started for this user-data dir (browser, renderers, GPU, utility)."""
    return [p for p in psutil.process_iter() if _owns(p, user_data_dir)]


def reap(user_data_dirs: list[Path], timeout_s: float = 3.0) -> int:
    """Kill whatever is left of these sessions' browsers; returns how many were found."""
    procs = [p for d in user_data_dirs for p in browser_processes(d)]
    kill_and_wait(procs, timeout_s)
    return len(procs)


class ResourceSampler:
    """Samples the session's Chromium tree in the background until stopped.

    CPU time is kept per pid as the largest value seen, so a renderer that exits
    before the session ends still counts.
    """

    def __init__(self, user_data_dir: Path) -> None:
        self._user_data_dir = user_data_dir
        self._peak_rss = 0
        self._cpu_by_pid: dict[int, float] = {}
        self._tracked: dict[int, psutil.Process] = {}
        self._task: asyncio.Task[None] | None = None
        # stop() may sample while a cancelled to_thread sample is still running.
        self._lock = threading.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> ResourceUsage:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._sample()
        return ResourceUsage(
            peak_rss_mb=round(self._peak_rss / 2**20, 1),
            cpu_time_s=round(sum(self._cpu_by_pid.values()), 3),
            processes=len(self._cpu_by_pid),
        )

    async def _loop(self) -> None:
        while True:
            await asyncio.to_thread(self._sample)
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    def _sample(self) -> None:
        with self._lock:
            self._sample_locked()

    def _sample_locked(self) -> None:
        # A full process scan is costly; after the browser is found, only its tree is walked.
        found: dict[int, psutil.Process] = {}
        roots = list(self._tracked.values()) or browser_processes(self._user_data_dir)
        for root in roots:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                for proc in [root, *root.children(recursive=True)]:
                    found.setdefault(proc.pid, proc)
        rss_total = 0
        for proc in found.values():
            try:
                with proc.oneshot():
                    rss_total += proc.memory_info().rss
                    cpu = proc.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self._tracked.setdefault(proc.pid, proc)
            self._cpu_by_pid[proc.pid] = max(
                self._cpu_by_pid.get(proc.pid, 0.0), cpu.user + cpu.system
            )
        self._peak_rss = max(self._peak_rss, rss_total)


@dataclass(frozen=True)
class TreesMemory:
    """Memory of Chromium process trees at one moment, in bytes."""

    rss: int
    # Proportional set size: a page shared by n processes counts 1/n in each, so the sum
    # is what the trees take together; RSS counts shared pages (Chromium's code, its
    # zygote's pages) once per process. None when the kernel gave it for not every process.
    pss: int | None
    # Browser processes (tree roots): the browsers open at that moment.
    browsers: int


def _is_chromium(proc: psutil.Process) -> bool:
    try:
        return "chrom" in proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def descendant_chromium_memory(root: psutil.Process) -> TreesMemory:
    """Every Chromium process under `root` (Playwright's driver launches them as its
    children), with a browser counted for each whose parent is not a Chromium."""
    try:
        procs = [proc for proc in root.children(recursive=True) if _is_chromium(proc)]
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        procs = []
    return _memory_of(procs)


def tree_memory(roots: list[psutil.Process]) -> TreesMemory:
    """Every process of the trees under `roots` (a gateway's Node processes and the
    Chromiums they launched), with a browser counted for each Chromium whose parent is not
    one."""
    procs: list[psutil.Process] = []
    for root in roots:
        try:
            procs += [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return _memory_of(procs)


def _memory_of(procs: list[psutil.Process]) -> TreesMemory:
    chromium_pids = {proc.pid for proc in procs if _is_chromium(proc)}
    rss = 0
    pss: int | None = 0
    browsers = 0
    for proc in procs:
        try:
            with proc.oneshot():
                if proc.pid in chromium_pids and proc.ppid() not in chromium_pids:
                    browsers += 1
                try:
                    full = proc.memory_full_info()
                except psutil.AccessDenied:
                    rss += proc.memory_info().rss
                    pss = None
                    continue
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        rss += full.rss
        found = getattr(full, "pss", None)
        pss = None if pss is None or found is None else pss + found
    return TreesMemory(rss=rss, pss=pss, browsers=browsers)
