"""The browser seam: where a session's browser comes from (docs/architecture.md).

A provider starts a browser for a session and stops it; `local` launches Debian Chromium
and owns its process tree. A provider that cannot see the processes (a browser on another
machine) reports resources as None: unavailable, never zero.
"""

from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from playwright.async_api import BrowserContext

from qrbench.config.models import Browser
from qrbench.records import ResourceUsage


class LaunchedBrowser(Protocol):
    """One session's browser."""

    @property
    def context(self) -> BrowserContext: ...

    async def crash(self) -> None:
        """Kill it the hard way (the scenario's browser_crash)."""
        ...

    async def close(self) -> ResourceUsage | None:
        """Stop it and make sure nothing of it is left; its resources if measurable."""
        ...


class BrowserProvider(Protocol):
    """Opened once per run (`async with`); launches one browser per session."""

    def check(self, config: Browser) -> None:
        """Raise EnvironmentProblem before any session when no browser can be had."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def launch(
        self, config: Browser, user_data_dir: Path, extra_args: list[str]
    ) -> LaunchedBrowser: ...

    def reap(self, user_data_dirs: list[Path]) -> None:
        """Stop whatever is left of these sessions' browsers (after a cancelled run)."""
        ...
