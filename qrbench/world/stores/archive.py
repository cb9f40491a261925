"""Session zips as whatsapp-web.js RemoteAuth makes them: only the profile dirs that hold
the login (IndexedDB, Local Storage), relative to the Chromium user-data dir."""

import contextlib
import itertools
import os
import zipfile
from pathlib import Path

from qrbench.errors import SessionFailure

REQUIRED_DIRS = ("Default/IndexedDB", "Default/Local Storage")
BYTES_PER_MB = 2**20
FILLER_DIR = "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00"
FILLER_FILE_BYTES = BYTES_PER_MB


class UnsafeArchive(SessionFailure):
    """A session zip holds an entry that would land outside the user-data dir."""


def zip_session(user_data_dir: Path, zip_path: Path) -> int:
    """Zip the required dirs of a Chromium user-data dir; returns the zip's size in bytes."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_required_dirs(archive, user_data_dir)
    return zip_path.stat().st_size


def unzip_session(zip_path: Path, user_data_dir: Path) -> None:
    """Extract a session zip into `user_data_dir`, refusing it whole if any entry escapes."""
    user_data_dir.mkdir(parents=True, exist_ok=True)
    root = user_data_dir.resolve()
    with zipfile.ZipFile(zip_path) as archive:
        # zipfile would quietly rewrite `../x` and `/x` to stay inside; a session zip that
        # holds them is not one RemoteAuth wrote, so it is refused, not repaired.
        for name in archive.namelist():
            if not (root / name).resolve().is_relative_to(root):
                raise UnsafeArchive(f"{zip_path}: entry {name!r} escapes {user_data_dir}")
        archive.extractall(root)


def build_remote_session_zip(profile_dir: Path, size_mb: float, zip_path: Path) -> int:
    """A session zip of `size_mb` MB (2**20 bytes): the real profile's required dirs, then
    random, incompressible IndexedDB blob files up to the size. Returns the size in bytes.

    A profile whose own zip is already larger than `size_mb` is kept whole."""
    target = round(size_mb * BYTES_PER_MB)
    real_size = zip_session(profile_dir, zip_path)
    missing = target - real_size
    if missing <= 0:
        return real_size
    # Appended as stored entries, whose size on disk is known exactly in advance; random
    # bytes would not shrink under deflate anyway.
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_STORED) as archive:
        taken = set(archive.namelist())  # the real profile may have blobs of these names
        names = (name for i in itertools.count(1) if (name := f"{FILLER_DIR}/{i:x}") not in taken)
        for name in names:
            data_bytes = min(FILLER_FILE_BYTES, missing - _entry_overhead(name))
            if data_bytes <= 0:
                break
            archive.writestr(name, os.urandom(data_bytes))
            missing -= data_bytes + _entry_overhead(name)
    return zip_path.stat().st_size


def _entry_overhead(name: str) -> int:
    """What a stored entry adds to the zip beyond its data: the local header (30 bytes)
    and the central directory record (46 bytes), each carrying the name."""
    return 30 + 46 + 2 * len(name.encode())


def _add_required_dirs(archive: zipfile.ZipFile, user_data_dir: Path) -> None:
    for required in REQUIRED_DIRS:
        directory = user_data_dir / required
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            # backup_sync zips a profile Chromium is writing to: LevelDB deletes files
            # between listing and reading, and a file gone by then is simply not part of
            # this backup.
            with contextlib.suppress(FileNotFoundError):
                archive.write(path, path.relative_to(user_data_dir).as_posix())
