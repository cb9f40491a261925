"""Output paths checked before a run: what write_atomic can write passes, the rest is one line."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from qrbench.outputs import OutputError, check_results_file, check_writable, write_output

# Paths nobody may write, root included (procfs refuses even CAP_DAC_OVERRIDE): a test
# running as root cannot make such a path with chmod.
READ_ONLY_DIR = Path("/proc/sys")
READ_ONLY_FILE = Path("/proc/sys/kernel/osrelease")


def fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def existing_file(tmp_path: Path) -> Path:
    (tmp_path / "old.json").write_text("{}")
    return tmp_path / "old.json"


def link_to_file(tmp_path: Path) -> Path:
    (tmp_path / "latest.json").symlink_to(existing_file(tmp_path))
    return tmp_path / "latest.json"


def link_to_fifo(tmp_path: Path) -> Path:
    (tmp_path / "null").symlink_to(fifo(tmp_path))
    return tmp_path / "null"


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: tmp / "new.json",
        lambda tmp: tmp / "made" / "on" / "write.json",
        existing_file,
        link_to_file,
        fifo,
        link_to_fifo,
    ],
    ids=["new", "in-missing-dirs", "existing", "link-to-file", "fifo", "link-to-fifo"],
)
def test_what_write_atomic_can_write_passes(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path)
    check_writable(path, "--json")
    assert not (tmp_path / "made").exists()  # checking makes nothing


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: existing_file(tmp) / "x.json", "old.json is not a directory"),
        (lambda tmp: existing_file(tmp) / "a" / "x.json", "old.json is not a directory"),
        (lambda tmp: READ_ONLY_DIR / "x.json", f"directory {READ_ONLY_DIR} is not writable"),
        (lambda tmp: READ_ONLY_DIR / "new" / "x.json", f"directory {READ_ONLY_DIR} is not"),
        (lambda tmp: READ_ONLY_FILE, "is not writable"),
    ],
    ids=["directory", "under-a-file", "deep-under-a-file", "read-only-dir", "deep", "read-only"],
)
def test_what_cannot_be_written_is_one_error_naming_option_and_path(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(OutputError) as caught:
        check_writable(path, "--markdown")
    assert str(caught.value).startswith(f"--markdown {path}: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "make", [fifo, link_to_fifo, lambda tmp: Path("-")], ids=["fifo", "link-to-fifo", "stdout"]
)
def test_a_results_file_must_be_a_regular_file(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path)
    with pytest.raises(OutputError, match="a results file must be a regular file"):
        check_results_file(path, "--output")


def test_a_results_file_may_be_new_existing_or_linked(tmp_path: Path) -> None:
    for path in (tmp_path / "new.json", existing_file(tmp_path), link_to_file(tmp_path)):
        check_results_file(path, "--output")
    with pytest.raises(OutputError, match="is a directory"):
        check_results_file(tmp_path, "--output")


def test_a_failed_write_is_one_error_naming_what_was_written(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        write_output(tmp_path, b"{}", "results file")
    assert str(caught.value) == f"results file {tmp_path}: cannot write (Is a directory)"
