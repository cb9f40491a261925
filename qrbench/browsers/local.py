"""browser_launch: start Debian Chromium through Playwright with the profile's settings."""

import os
from pathlib import Path

from playwright.async_api import BrowserContext, Playwright
from playwright.async_api import Error as PlaywrightError

from qrbench.browsers.failures import first_line
from qrbench.config.models import Browser
from qrbench.errors import BrowserLaunchFailed, EnvironmentProblem

# Without these Chromium keeps trying to reach Google's services, which this closed
# network refuses, and startup stalls. They are the harness's, not the profile's.
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
