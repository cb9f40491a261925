"""Machine-readable exports, one module per format, all behind `write`.

Each format module (json, markdown, csv, junit) renders what the commands produce as
text (`render_run`, `render_comparison`, `render_gate`, `render_explanation`, where the
format has one); commands pick modules by option and hand the text to `write`.
"""

import sys
from pathlib import Path

from qrbench.atomic import write_atomic
from qrbench.errors import ConfigError

STDOUT = "-"


class ExportError(ConfigError):
    """An export's destination cannot be written (exit code 2: the option names it)."""


def write(text: str, destination: str) -> None:
    """Write an export to a file (atomically) or, for "-", to standard output."""
    if destination == STDOUT:
        sys.stdout.write(text)
        return
    try:
        write_atomic(Path(destination), text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"{destination}: cannot write ({exc.strerror or exc})") from None


def append(text: str, path: Path) -> None:
    """Add to a file others write too, such as `$GITHUB_STEP_SUMMARY` (one per CI step)."""
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise ExportError(f"{path}: cannot append ({exc.strerror or exc})") from None
