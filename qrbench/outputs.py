"""Output paths, checked before the first session runs: a benchmark must not be spent on
results that cannot be written.

The rules are those of `atomic.write_atomic`: a regular file or a new path needs a
writable directory to hold the temporary file (missing directories are created, so the
nearest existing one decides); a FIFO or a character device is written through and needs
only to be writable itself.
"""

import os
import stat
from pathlib import Path

from qrbench.atomic import write_atomic
from qrbench.errors import ConfigError


class OutputError(ConfigError):
    """An output path cannot be written (exit code 2: the message names the option)."""


def write_output(path: Path, data: bytes, label: str) -> None:
    """`write_atomic`, with a failure the check could not foresee (a full disk, a file
    removed meanwhile) as one OutputError naming `label`."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"{label} {path}: cannot write ({exc.strerror or exc})") from None


def check_writable(path: Path, label: str) -> None:
    """Raises OutputError, naming `label` (the option), unless `path` can be written."""
    reason = _unwritable(path)
    if reason is not None:
        raise OutputError(f"{label} {path}: {reason}")


def check_results_file(path: Path, label: str) -> None:
    """As check_writable, for a results file, which must be a regular file (or a new one):
    it is rewritten after every session and read back by `gate` and `baseline save`."""
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None  # a new file, or one check_writable explains
    special = mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
    if str(path) == "-" or special:
        raise OutputError(
            f"{label} {path}: a results file must be a regular file (it is rewritten after "
            "every session and read back); for a stream, use --json"
        )
    check_writable(path, label)


def _unwritable(path: Path) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return _uncreatable(_followed(path).parent)
    except OSError as exc:  # a loop of links, a folder it may not look in
        return _strerror(exc)
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        return "is not a file, FIFO or character device"
    if not os.access(path, os.W_OK):
        return "is not writable"
    if stat.S_ISREG(mode):
        return _uncreatable(_followed(path).parent)
    return None


def _followed(path: Path) -> Path:
    # A link's target is what gets replaced, so its folder holds the temporary file.
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _uncreatable(directory: Path) -> str | None:
    """Why a file cannot be created in `directory` (made first when missing), or None."""
    try:
        existing = nearest_existing(directory)
        if not existing.is_dir():
            return f"{existing} is not a directory"
    except OSError as exc:
        return _strerror(exc)
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"directory {existing} is not writable"
    return None


def nearest_existing(path: Path) -> Path:
    """`path` or its nearest parent that exists: what decides whether `path` can be made."""
    existing = path
    # "." is its own parent, and may be missing: a working directory removed meanwhile.
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing


def _strerror(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
