"""write_atomic: regular files replaced whole, anything else written through, modes as open(2)."""

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from qrbench.atomic import write_atomic
from tests.helpers import fifo_reader


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path, mask: int, mode: int) -> None:
    path = tmp_path / "new" / "results.json"
    with umask(mask):
        write_atomic(path, b"{}")
    assert path.read_bytes() == b"{}"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_an_existing_file_is_replaced_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(b"old")
    path.chmod(0o604)
    before = path.stat().st_ino
    with umask(0o077):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    # A new inode: renamed into place, so a reader never saw it half written.
    assert path.stat().st_ino != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o604
    assert os.listdir(tmp_path) == ["results.json"]


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    with fifo_reader(path) as read:
        write_atomic(path, b"through")
        assert read() == b"through"
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_a_link_to_a_pipe_is_written_through(tmp_path: Path) -> None:
    # What /dev/stdout is when the output is piped: /proc/self/fd/1, a link to a pipe that
    # no path names.
    read_end, write_end = os.pipe()
    try:
        write_atomic(Path(f"/proc/self/fd/{write_end}"), b"piped")
        assert os.read(read_end, 100) == b"piped"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_link_to_a_regular_file_stays_a_link_and_its_target_is_replaced(
    tmp_path: Path,
) -> None:
    target = tmp_path / "kept" / "results.json"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and link.readlink() == target
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    # The temporary file went beside the target, and is gone.
    assert os.listdir(target.parent) == ["results.json"]


def test_a_dangling_link_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "runs" / "first.json")
    write_atomic(link, b"first")
    assert link.is_symlink()
    assert (tmp_path / "runs" / "first.json").read_bytes() == b"first"


def test_a_link_to_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "null"
    link.symlink_to(fifo)
    with fifo_reader(fifo) as read:
        write_atomic(link, b"through")
        assert read() == b"through"
    assert link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_written_through(tmp_path: Path) -> None:
    # A private null device (1, 3), never the machine's /dev/null.
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    write_atomic(device, b"discarded")
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert os.listdir(tmp_path) == ["null"]
