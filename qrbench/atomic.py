"""Write a file so that a reader (or a crash) never sees half of it, and never replace
what is not a regular file.

A regular file, or a path that does not exist yet, is replaced atomically: a temporary
file beside it, then a rename. Anything else the path names (a FIFO, a character device
such as /dev/null, /dev/stdout) is opened and written through: renaming over it would
replace it with a file, for the whole machine when qrbench runs as root. A symbolic link
is followed, never replaced: a link to a regular file gets its target replaced atomically,
a link to anything else is written through.
"""

import os
import secrets
import stat
from pathlib import Path

# As open(2) creates files: the umask decides what others may do with them.
_NEW_FILE_MODE = 0o666


def write_atomic(path: Path, data: bytes) -> None:
    try:
        # Follows links, including /proc's links to pipes, which realpath cannot name.
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None  # a new file, or a link whose target is still to be created
    if mode is not None and not stat.S_ISREG(mode):
        _write_through(path, data)
    else:
        _replace(Path(os.path.realpath(path)), data, mode)


def _write_through(path: Path, data: bytes) -> None:
    # No fsync: pipes and terminals refuse it, and there is no file to make durable.
    with path.open("wb") as out:
        out.write(data)


def _replace(path: Path, data: bytes, existing_mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL, not mkstemp: mkstemp makes every file 0600 whatever the umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            if existing_mode is not None:
                os.fchmod(out.fileno(), stat.S_IMODE(existing_mode))
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
