"""The HTML report is core code: it loads no Typer or Rich (the CLI's and the console's),
and, like compare and gate of files, no browser, server or store."""

import pytest

from tests.helpers import packages_loaded_by

FORBIDDEN = ("typer", "rich", "click", "playwright", "aiohttp", "redis")


@pytest.mark.parametrize("module", ["qrbench.report.export.html", "qrbench.report.html.inputs"])
def test_the_report_builder_imports_no_cli_console_browser_or_server(module: str) -> None:
    assert packages_loaded_by(module) & set(FORBIDDEN) == set()
