"""Reading saved results needs no browser, web server or store: compare and gate of files
stay quick to start and work where Playwright or Redis are not installed."""

import pytest

from tests.helpers import packages_loaded_by

HEAVY = ("playwright", "aiohttp", "redis")


@pytest.mark.parametrize("module", ["qrbench.analysis.compare", "qrbench.analysis.gate"])
def test_reading_results_imports_no_browser_server_or_store(module: str) -> None:
    assert packages_loaded_by(module) & set(HEAVY) == set()
