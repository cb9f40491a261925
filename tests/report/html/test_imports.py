"""The HTML report is core code: it loads no Typer or Rich (the CLI's and the console's),
and, like compare and gate of files, no browser, server or store."""

import subprocess
import sys

import pytest

FORBIDDEN = ("typer", "rich", "click", "playwright", "aiohttp", "redis")


@pytest.mark.parametrize("module", ["qrbench.report.export.html", "qrbench.report.html.inputs"])
def test_the_report_builder_imports_no_cli_console_browser_or_server(module: str) -> None:
    # A fresh interpreter: this test process has imported everything already.
    probe = (
        f"import sys, {module}; "
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == []
