"""Machine-readable exports, one module per format, all behind `write`."""

import sys
from pathlib import Path

from qrbench.atomic import write_atomic

STDOUT = "-"


def write(text: str, destination: str) -> None:
    """Write an export to a file (atomically) or, for "-", to standard output."""
    if destination == STDOUT:
        sys.stdout.write(text)
        return
    write_atomic(Path(destination), text.encode("utf-8"))
