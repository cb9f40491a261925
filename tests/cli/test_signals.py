"""Signals and kills against real `qrbench run --profile new` processes (replica, receiver,
private Redis, Playwright): exit 130 with one line, and nothing left running or on disk."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

import qrbench.__main__ as qrbench_main
from qrbench.leftovers import sweep
from tests.helpers import SMALL_WORLD, write_yaml

RUN = ["run", "--profile", "new", "--runs", "1", "--warmup", "0"]


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The runs' TMPDIR: short (Redis and Chromium put unix sockets in it) and private, so
    what a run left can be told from anything else on the machine."""
    root = Path(tempfile.mkdtemp(prefix="qb-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    for process in _running_from(root):
        process.kill()
    subprocess.run(["rm", "-rf", str(root)], check=False)


def _running_from(root: Path) -> list[psutil.Process]:
    """Processes started from `root`, each with its name read while it was alive
    (`info["name"]`): one may exit before a caller gets to it."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if any(str(root) in text for text in [*process.cmdline(), process.cwd()]):
                found.append(process)
        except psutil.Error:
            continue
    return found


def _start(scratch: Path, *args: str) -> subprocess.Popen[str]:
    write_yaml(scratch / "small.yaml", SMALL_WORLD)
    return subprocess.Popen(
        [sys.executable, "-m", "qrbench", *args],
        cwd=scratch,
        env={**os.environ, "TMPDIR": str(scratch), "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(found: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not found():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.002)


def _dir(scratch: Path, pattern: str) -> Callable[[], bool]:
    return lambda: any(scratch.glob(pattern))


# The moments of start-up, in order: the run's profile dir, the Playwright driver's temp
# dir, the private Redis's dir (synchronous start), its socket (PING comes next).
MOMENTS = {
    "data-dir": "qrbench-????????/.qrbench-owner",
    "driver": "qrbench-browsers-*/.qrbench-owner",
    "redis-start": "qrbench-redis-*",
    "redis-ping": "qrbench-redis-*/redis.sock",
}


@pytest.mark.browser
@pytest.mark.parametrize("repeat", [1, 2, 3])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_sigint_during_start_up_exits_130_and_leaves_nothing(
    scratch: Path, moment: str, repeat: int
) -> None:
    proc = _start(scratch, *RUN, "--scenario", "small.yaml", "--output", "r.json")
    try:
        _wait_for(_dir(scratch, MOMENTS[moment]), moment)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "PASS" not in out
    assert err.strip().splitlines()[-1].startswith("qrbench: interrupted (SIGINT)"), err
    assert "Traceback" not in err
    if not (scratch / "r.json").exists():
        assert "no session finished" in err
    _wait_for(lambda: not _running_from(scratch), "every child of the run gone", 10)
    assert sorted(p.name for p in scratch.iterdir()) in (["small.yaml"], ["r.json", "small.yaml"])


@pytest.mark.browser
def test_after_a_sigkill_no_redis_survives_and_the_sweep_takes_the_rest(scratch: Path) -> None:
    proc = _start(scratch, "run", "--profile", "new", "--runs", "3", "--warmup", "0",
                  "--scenario", "small.yaml", "--output", "r.json")  # fmt: skip
    try:
        _wait_for(
            lambda: any((p.info["name"] or "").startswith("chrom") for p in _running_from(scratch)),
            "a session's Chromium",
        )
        redis = [p for p in _running_from(scratch) if p.info["name"] == "redis-server"]
        assert len(redis) == 1
        proc.kill()
        proc.wait(timeout=10)
    finally:
        proc.kill()
    # The kernel kills Redis with its parent; a generous bound, not a timing.
    psutil.wait_procs(redis, timeout=10)
    assert not redis[0].is_running()
    left = sorted(p.name for p in scratch.glob("qrbench-*"))
    assert left  # a SIGKILL cleans nothing: this is the sweep's work

    swept = sweep()

    assert sorted(p.name for p in swept.directories) == left
    assert not list(scratch.glob("qrbench-*"))
    _wait_for(lambda: not _running_from(scratch), "every child of the killed run gone", 10)


@pytest.mark.parametrize("delay_s", [0.15, 0.25, 0.35, 0.45])
def test_sigint_while_the_command_line_loads_is_one_line_and_exit_130(
    scratch: Path, delay_s: float
) -> None:
    proc = _start(scratch, "profiles", "list")
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    # Python puts SIGINT back to its default while it shuts down: a signal then ends a
    # command that already printed everything, silently.
    done = "optimized" in out and not err
    if proc.returncode == 0 or (done and proc.returncode == -signal.SIGINT):
        pytest.skip("the command finished before the signal")  # a fast machine
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["qrbench: interrupted (SIGINT)"]


@pytest.mark.browser
def test_sigint_during_real_library_sessions_leaves_no_node_chromium_or_redis(
    scratch: Path,
) -> None:
    # `new` keeps its sessions in RemoteAuth on a private Redis: three kinds of children.
    args = ["--profile", "new", "--engine", "whatsapp-web.js", "--concurrency", "2"]
    proc = _start(scratch, "run", *args, "--runs", "3", "--warmup", "0",
                  "--scenario", "small.yaml", "--output", "r.json")  # fmt: skip

    def driver_chromium_and_redis() -> bool:
        names = {(process.info["name"] or "") for process in _running_from(scratch)}
        has_chromium = any(name.startswith("chrom") for name in names)
        return {"node", "redis-server"} <= names and has_chromium

    _interrupt_once_running(proc, scratch, driver_chromium_and_redis, "drivers, Chromium, Redis")


@pytest.mark.browser
def test_sigint_during_gateway_sessions_stops_the_gateway_and_its_chromium(
    scratch: Path,
) -> None:
    proc = _start(scratch, "run", "--profile", "gateway-optimized", "--concurrency", "2",
                  "--runs", "4", "--warmup", "0", "--output", "r.json")  # fmt: skip

    def gateway_and_its_chromium() -> bool:
        names, commands = set(), []
        for process in _running_from(scratch):
            names.add(process.info["name"] or "")
            with contextlib.suppress(psutil.Error):
                commands.append(" ".join(process.cmdline()))
        has_chromium = any(name.startswith("chrom") for name in names)
        return has_chromium and any("server.js" in command for command in commands)

    _interrupt_once_running(proc, scratch, gateway_and_its_chromium, "the gateway, its Chromium")


def _interrupt_once_running(
    proc: subprocess.Popen[str], scratch: Path, running: Callable[[], bool], what: str
) -> None:
    """SIGINT `proc` once `running()` holds: exit 130 without a traceback, and nothing it
    started left running from `scratch`."""
    try:
        _wait_for(running, what)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    _wait_for(lambda: not _running_from(scratch), f"{what}: all gone", 10)


def test_an_error_a_library_made_of_the_interrupt_still_reads_as_the_interrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pydantic-core, interrupted while it builds a schema, raises a SchemaError of its own
    # with no cause: seen in CI as a traceback and exit 1 instead of exit 130.
    monkeypatch.setattr(qrbench_main, "_signalled", False)
    rebuilt = ValueError('Error building "enum" validator: _Interrupted')
    assert not qrbench_main._interrupted_by(rebuilt)
    with pytest.raises(qrbench_main._Interrupted):
        qrbench_main._interrupt(signal.SIGINT, None)
    assert qrbench_main._interrupted_by(rebuilt)
