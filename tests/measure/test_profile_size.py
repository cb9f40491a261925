"""What a session's profile left on disk, measured after its browser closed."""

from pathlib import Path

from qrbench.measure.runner import _size_mb
from qrbench.records import SessionResult
from tests.helpers import session


def test_the_size_is_every_file_under_the_dirs_that_exist(tmp_path: Path) -> None:
    local = tmp_path / "session-a"
    (local / "Default" / "IndexedDB").mkdir(parents=True)
    (local / "Default" / "IndexedDB" / "000003.log").write_bytes(b"x" * 3 * 2**20)
    (local / "Local State").write_bytes(b"y" * 2**19)
    # Chromium's lock is a dangling link: counted as the link (a few bytes), not followed.
    (local / "SingletonLock").symlink_to(tmp_path / "gone")
    assert _size_mb([local, tmp_path / "RemoteAuth-a"]) == 3.5


def test_no_dir_on_this_machine_is_no_size(tmp_path: Path) -> None:
    assert _size_mb([tmp_path / "session-a", tmp_path / "RemoteAuth-a"]) is None


def test_a_record_keeps_the_size_and_older_records_read_without_it() -> None:
    measured = SessionResult(**{**vars(session(1, 1000.0)), "profile_dir_mb": 2.5})
    assert SessionResult.from_dict(measured.to_dict()).profile_dir_mb == 2.5
    older = session(1, 1000.0).to_dict()
    assert "profile_dir_mb" not in older
    assert SessionResult.from_dict(older).profile_dir_mb is None
