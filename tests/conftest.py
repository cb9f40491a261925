"""Shared fixtures. Plain helpers (pages, results documents, runs) are in tests/helpers.py."""

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest


def _chromium_under(directories: list[Path]) -> list[psutil.Process]:
    """Live Chromium processes whose command line mentions one of `directories` (every
    Chromium process carries its --user-data-dir, renderers included)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        # A zombie has exited already; only its parent's bookkeeping is left.
        if proc.info["status"] == psutil.STATUS_ZOMBIE or "chrom" not in (proc.info["name"] or ""):
            continue
        args = proc.info["cmdline"] or ()
        if any(str(directory) in arg for arg in args for directory in directories):
            found.append(proc)
    return found


@pytest.fixture
def no_leftover_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails the test if a Chromium it started outlives it.

    Temporary files (qrbench's profiles, Playwright's) go to a scratch dir of this test,
    in this process and in the qrbench processes it starts, so its browsers can be told
    from those of anything else running on the machine. The scratch dir is short:
    Chromium puts a unix socket in it, and socket paths are limited to 108 bytes.
    """
    scratch = Path(tempfile.mkdtemp(prefix="qb-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    try:
        yield
        # Closing browsers may take a moment to exit; a leak is one that stays.
        deadline = time.monotonic() + 5
        while (leftover := _chromium_under([scratch, tmp_path])) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not leftover, f"Chromium processes left running: {[p.pid for p in leftover]}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
