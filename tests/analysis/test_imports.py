"""Reading saved results needs no browser, web server or store: compare and gate of files
stay quick to start and work where Playwright or Redis are not installed."""

import subprocess
import sys

import pytest

HEAVY = ("playwright", "aiohttp", "redis")


@pytest.mark.parametrize("module", ["qrbench.analysis.compare", "qrbench.analysis.gate"])
def test_reading_results_imports_no_browser_server_or_store(module: str) -> None:
    # A fresh interpreter: this test process has imported everything already.
    probe = (
        f"import sys, {module}; "
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == []
