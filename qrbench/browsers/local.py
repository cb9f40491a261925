"""The local provider: Debian Chromium launched through Playwright on this machine.

It owns the browser's process tree: samples its resources while the session runs and
reaps whatever is left after it (see `qrbench.browsers.processes`). The driver and its
Chromiums keep their temp files (playwright-artifacts-*, org.chromium.Chromium.*) in a
marked dir of the run's, removed when the run ends and swept after a kill
(`qrbench.leftovers`).
"""

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Self

from playwright.async_api import BrowserContext, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.failures import first_line
from qrbench.browsers.processes import ResourceSampler, reap
from qrbench.config.models import Browser
from qrbench.errors import BrowserLaunchFailed, EnvironmentProblem
from qrbench.leftovers import owned_tempdir
from qrbench.records import ResourceUsage

# Without these Chromium keeps trying to reach Google's services, which this closed
# network refuses, and startup stalls. They are the harness's, not the profile's.
CLOSE_TIMEOUT_S = 5.0
HARNESS_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def check_executable(executable_path: str) -> None:
    path = Path(executable_path)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise EnvironmentProblem(
            f"Chromium not found at {executable_path}: install it with "
            "'apt-get install chromium', or point QRBENCH_CHROMIUM (or the profile's "
            "browser.executable_path) at an existing binary"
        )


def launch_args(config: Browser, extra_args: list[str]) -> list[str]:
    args = [*HARNESS_ARGS, *config.args, *extra_args]
    # Chromium refuses to run as root without it; the profile may already say so.
    if os.geteuid() == 0 and "--no-sandbox" not in args:
        args.append("--no-sandbox")
    return list(dict.fromkeys(args))


async def launch(
    playwright: Playwright, config: Browser, user_data_dir: Path, extra_args: list[str]
) -> BrowserContext:
    try:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir,
            executable_path=config.executable_path,
            headless=config.headless,
            args=launch_args(config, extra_args),
            timeout=config.timeout_ms,
            user_agent=config.user_agent,
        )
    except PlaywrightError as exc:
        raise BrowserLaunchFailed(first_line(exc)) from exc
    # CDP calls (navigation, screenshots, evaluation) give up after the protocol timeout,
    # as puppeteer's protocolTimeout does.
    context.set_default_timeout(config.protocol_timeout_ms)
    return context


class LocalBrowser:
    """A Chromium of this machine, found by its unique user-data dir."""

    def __init__(self, context: BrowserContext, user_data_dir: Path, sampler: ResourceSampler):
        self._context = context
        self._user_data_dir = user_data_dir
        self._sampler = sampler

    @property
    def context(self) -> BrowserContext:
        return self._context

    async def crash(self) -> None:
        await asyncio.to_thread(reap, [self._user_data_dir])

    async def close(self) -> ResourceUsage:
        resources = await self._sampler.stop()
        # A crashed or hung browser may never answer close; the reaper finishes the job.
        with contextlib.suppress(PlaywrightError, TimeoutError):
            await asyncio.wait_for(self._context.close(), CLOSE_TIMEOUT_S)
        reap([self._user_data_dir])
        return resources


class PlaywrightDriver:
    """The Playwright driver (one Node process) that a run's providers share: each
    provider enters it, the first entry starts it, the last exit stops it. The driver and
    the browsers it launches keep their temp files in a marked dir of the run's
    (`qrbench.leftovers`)."""

    def __init__(self) -> None:
        self._users = 0
        self._playwright: Playwright | None = None
        self._driver: contextlib.AbstractAsyncContextManager[Playwright] | None = None
        self._temp_dir: Path | None = None

    @property
    def playwright(self) -> Playwright:
        assert self._playwright is not None, "open the provider first (async with)"
        return self._playwright

    async def __aenter__(self) -> Self:
        if self._users == 0:
            await self._start()
        self._users += 1
        return self

    async def _start(self) -> None:
        self._temp_dir = owned_tempdir("qrbench-browsers-")
        self._driver = async_playwright()
        # The driver copies our environment when it starts, and its browsers inherit it.
        previous = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(self._temp_dir)
        try:
            self._playwright = await self._driver.__aenter__()
        except BaseException:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            raise
        finally:
            if previous is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = previous

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._users -= 1
        if self._users > 0:
            return
        try:
            if self._driver is not None:
                await self._driver.__aexit__(exc_type, exc, tb)
        finally:
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._driver = self._playwright = self._temp_dir = None


class DriverUser:
    """A provider's hold on a driver: its own unless the run passes the shared one."""

    def __init__(self, driver: PlaywrightDriver | None = None) -> None:
        self._driver = driver or PlaywrightDriver()

    @property
    def playwright(self) -> Playwright:
        return self._driver.playwright

    async def __aenter__(self) -> Self:
        await self._driver.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._driver.__aexit__(exc_type, exc, tb)


class LocalProvider(DriverUser):
    """Launches Debian Chromium for each session through the run's Playwright driver."""

    def check(self, config: Browser) -> None:
        check_executable(config.executable_path)

    async def launch(
        self, config: Browser, user_data_dir: Path, extra_args: list[str]
    ) -> LocalBrowser:
        # Sampling starts before the launch: Chromium's start-up is part of its cost.
        sampler = ResourceSampler(user_data_dir)
        sampler.start()
        try:
            context = await launch(self.playwright, config, user_data_dir, extra_args)
        except BaseException:
            await sampler.stop()
            reap([user_data_dir])
            raise
        return LocalBrowser(context, user_data_dir, sampler)

    def reap(self, user_data_dirs: list[Path]) -> None:
        reap(user_data_dirs)
