"""The sweep of what killed runs left: only marked dirs whose owner is gone, never a live
run's, never an unmarked dir; what still runs from a swept dir is stopped. Real processes."""

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from qrbench.leftovers import MARKER, owned_tempdir, sweep


@pytest.fixture
def temp_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="qb-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    subprocess.run(["rm", "-rf", str(root)], check=False)


def _dead_owner_marker(directory: Path) -> None:
    """Mark `directory` as made by a process that has exited since."""
    gone = subprocess.Popen(["true"])
    started = psutil.Process(gone.pid).create_time()
    gone.wait()
    (directory / MARKER).write_text(json.dumps({"pid": gone.pid, "started": started}))


def test_a_dead_owners_dir_is_swept_with_what_runs_from_it(temp_root: Path) -> None:
    orphan = temp_root / "qrbench-orphan1"
    orphan.mkdir()
    _dead_owner_marker(orphan)
    # A process started from the orphan, as redis-server --dir is.
    leftover = subprocess.Popen(["sleep", "60"], cwd=orphan)
    try:
        swept = sweep()
        assert swept.directories == [orphan]
        assert swept.processes == 1
        leftover.wait(timeout=10)  # the sweep reaped it already, as its parent's wait would
        assert not psutil.pid_exists(leftover.pid)
        assert not orphan.exists()
    finally:
        leftover.kill()


def test_live_runs_unmarked_dirs_and_recycled_pids_are_left_alone(temp_root: Path) -> None:
    mine = owned_tempdir("qrbench-")  # this test process is alive
    other_live = temp_root / "qrbench-other"
    other_live.mkdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        started = psutil.Process(sleeper.pid).create_time()
        (other_live / MARKER).write_text(json.dumps({"pid": sleeper.pid, "started": started}))
        unmarked = temp_root / "qrbench-unmarked"
        unmarked.mkdir()
        # The pid of a live process, but not its start time: the owner died, the pid moved on.
        recycled = temp_root / "qrbench-recycled"
        recycled.mkdir()
        (recycled / MARKER).write_text(json.dumps({"pid": sleeper.pid, "started": started - 5}))
        not_ours = temp_root / "other-tool-x"
        not_ours.mkdir()
        _dead_owner_marker(not_ours)

        swept = sweep()

        assert swept.directories == [recycled]
        assert mine.exists() and other_live.exists() and unmarked.exists() and not_ours.exists()
        assert sleeper.poll() is None
    finally:
        sleeper.kill()


def test_owned_dirs_must_be_where_the_sweep_looks() -> None:
    with pytest.raises(ValueError, match="qrbench-"):
        owned_tempdir("elsewhere-")
