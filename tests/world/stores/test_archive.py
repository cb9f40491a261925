"""Session zips: what goes in, what comes out, and what is refused."""

import zipfile
import zlib
from pathlib import Path

import pytest

from qrbench.world.stores.archive import (
    BYTES_PER_MB,
    REQUIRED_DIRS,
    UnsafeArchive,
    build_remote_session_zip,
    unzip_session,
    zip_session,
)

LOGIN_FILES = {
    "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/000003.log": b"\x01" * 9000,
    "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/CURRENT": b"MANIFEST-000001\n",
    # Named like the filler build_remote_session_zip adds, which must not replace it.
    "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00/1": b"blob-one",
    "Default/Local Storage/leveldb/000003.log": b"WAToken1=\x00\x01abc" * 300,
    "Default/Local Storage/leveldb/LOCK": b"",
}
OTHER_FILES = {
    "Default/Cache/Cache_Data/data_0": b"\x02" * 5000,
    "Default/Preferences": b"{}",
    "Local State": b"{}",
}


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def chromium_profile(tmp_path: Path) -> Path:
    """A user-data dir laid out like Chromium's, with files RemoteAuth must and must not zip."""
    profile = tmp_path / "profile"
    for name, data in (LOGIN_FILES | OTHER_FILES).items():
        path = profile / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return profile


def test_zip_session_round_trip_restores_the_login_files(
    chromium_profile: Path, tmp_path: Path
) -> None:
    zip_path = tmp_path / "RemoteAuth-abc.zip"
    size = zip_session(chromium_profile, zip_path)
    restored = tmp_path / "restored" / "RemoteAuth-abc"
    unzip_session(zip_path, restored)

    assert size == zip_path.stat().st_size
    assert files_under(restored) == LOGIN_FILES


def test_zip_session_holds_only_the_required_dirs(chromium_profile: Path, tmp_path: Path) -> None:
    zip_path = tmp_path / "session.zip"
    zip_session(chromium_profile, zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        methods = {info.compress_type for info in archive.infolist()}

    assert sorted(names) == sorted(LOGIN_FILES)
    assert all(name.startswith(REQUIRED_DIRS) for name in names)
    assert methods == {zipfile.ZIP_DEFLATED}


def test_zip_session_skips_a_required_dir_the_profile_lacks(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    only_file = profile / "Default/Local Storage/leveldb/CURRENT"
    only_file.parent.mkdir(parents=True)
    only_file.write_bytes(b"MANIFEST-000001\n")

    zip_session(profile, tmp_path / "session.zip")

    with zipfile.ZipFile(tmp_path / "session.zip") as archive:
        assert archive.namelist() == ["Default/Local Storage/leveldb/CURRENT"]


@pytest.mark.parametrize(
    "escaping_name",
    ["../outside.txt", "Default/../../outside.txt", "/tmp/qrbench-absolute-outside.txt"],
)
def test_unzip_session_refuses_entries_that_escape(tmp_path: Path, escaping_name: str) -> None:
    zip_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("Default/Local Storage/leveldb/LOCK", b"")
        archive.writestr(escaping_name, b"pwned")
    target = tmp_path / "sessions" / "RemoteAuth-abc"

    with pytest.raises(UnsafeArchive, match="escapes"):
        unzip_session(zip_path, target)

    assert files_under(target) == {}  # refused whole, not partly extracted
    assert not (tmp_path / "sessions" / "outside.txt").exists()
    assert not Path("/tmp/qrbench-absolute-outside.txt").exists()


@pytest.mark.parametrize("size_mb", [5, 20])
def test_build_remote_session_zip_hits_the_size_with_the_real_profile_inside(
    chromium_profile: Path, tmp_path: Path, size_mb: int
) -> None:
    zip_path = tmp_path / "RemoteAuth-abc.zip"
    size = build_remote_session_zip(chromium_profile, size_mb, zip_path)
    data = zip_path.read_bytes()

    assert size == len(data)
    assert size == pytest.approx(size_mb * BYTES_PER_MB, rel=0.05)
    # Filler of zeros would make restore timings those of a tiny download.
    assert len(zlib.compress(data, 1)) > 0.95 * size
    restored = tmp_path / "restored"
    unzip_session(zip_path, restored)
    restored_files = files_under(restored)
    assert {name: restored_files[name] for name in LOGIN_FILES} == LOGIN_FILES
    assert all(name.startswith(REQUIRED_DIRS) for name in restored_files)
    assert not any(name.startswith("Default/Cache") for name in restored_files)


def test_build_remote_session_zip_keeps_a_profile_larger_than_asked(
    chromium_profile: Path, tmp_path: Path
) -> None:
    zip_path = tmp_path / "RemoteAuth-abc.zip"
    size = build_remote_session_zip(chromium_profile, 0.001, zip_path)

    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(LOGIN_FILES)
    assert size == zip_path.stat().st_size
