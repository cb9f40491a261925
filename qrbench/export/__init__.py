"""Machine-readable exports, one module per format, all behind `write`.

Every format module (json, markdown, csv) offers the same two renderers, `Exporter`;
commands pick modules by option and hand the text to `write`.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qrbench.atomic import write_atomic

if TYPE_CHECKING:
    from qrbench.compare import Comparison
    from qrbench.explain import Explanation
    from qrbench.summary import RunSummary

STDOUT = "-"


class Exporter(Protocol):
    def render_run(
        self, profile: str, scenario: str, results_path: Path, summary: "RunSummary"
    ) -> str: ...

    def render_comparison(self, comparison: "Comparison") -> str: ...


class ExplanationExporter(Protocol):
    """The formats `qrbench explain` writes (json, markdown): a table, not rows per metric."""

    def render_explanation(self, explanation: "Explanation") -> str: ...


def write(text: str, destination: str) -> None:
    """Write an export to a file (atomically) or, for "-", to standard output."""
    if destination == STDOUT:
        sys.stdout.write(text)
        return
    write_atomic(Path(destination), text.encode("utf-8"))
