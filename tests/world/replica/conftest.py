"""A fixture that launches real Chromium for the replica's page tests."""

import time
from collections.abc import Callable, Iterator

import psutil
import pytest
from playwright.sync_api import Browser, sync_playwright

from qrbench.browsers.local import HARNESS_ARGS

# What qrbench adds to every launch, and what root needs.
CHROMIUM_ARGS = [*HARNESS_ARGS, "--no-sandbox"]


LaunchChromium = Callable[[list[str]], Browser]


@pytest.fixture
def launch_chromium(no_leftover_chromium: None) -> Iterator[LaunchChromium]:
    """Launches headless Chromium with extra arguments; closes every one it launched."""
    with sync_playwright() as playwright:
        browsers: list[Browser] = []

        def launch(extra_args: list[str]) -> Browser:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *extra_args]
            )
            browsers.append(browser)
            return browser

        try:
            yield launch
        finally:
            helpers = [
                process
                for process in psutil.Process().children(recursive=True)
                if "chrom" in process.name()
            ]
            for browser in browsers:
                browser.close()
            # Chromium's helper processes outlive browser.close() by a moment.
            wait_until_exited(helpers, timeout_s=5.0)


def wait_until_exited(processes: list[psutil.Process], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(is_running(process) for process in processes):
        time.sleep(0.05)


def is_running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
