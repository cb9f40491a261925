"""Machine-readable exports, one module per format, all behind `write`.

Each format module (json, markdown, csv, junit) renders what the commands produce as
text (`render_run`, `render_comparison`, `render_gate`, `render_explanation`, where the
format has one); commands pick modules by option and hand the text to `write`.
"""

import sys
from pathlib import Path

from qrbench.outputs import OutputError, write_output

STDOUT = "-"


def write(text: str, destination: str) -> None:
    """Write an export to standard output ("-") or to a path as `atomic.write_atomic` does: a file
    atomically, a FIFO or device (/dev/null, /dev/stderr) through, never replacing it."""
    if destination == STDOUT:
        sys.stdout.write(text)
        return
    write_output(Path(destination), text.encode("utf-8"), "export")


def append(text: str, path: Path) -> None:
    """Add to a file others write too, such as `$GITHUB_STEP_SUMMARY` (one per CI step)."""
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot append ({exc.strerror or exc})") from None
