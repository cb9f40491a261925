"""The memory of the Chromium trees under a process: counted per browser, PSS where given."""

import shutil
import subprocess
import time
from pathlib import Path

import psutil

from qrbench.browsers.processes import descendant_chromium_memory


def test_trees_under_a_process_are_counted_once_per_browser(tmp_path: Path) -> None:
    # Stand-ins named as Debian's Chromium processes are: a "browser" shell and its child.
    shell = tmp_path / "chromium"
    sleeper = tmp_path / "chromium-renderer"
    shutil.copy("/bin/sh", shell)
    shutil.copy("/bin/sleep", sleeper)
    browser = subprocess.Popen([str(shell), "-c", f"{sleeper} 30; :"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = descendant_chromium_memory(psutil.Process())
            if found.rss and len(psutil.Process(browser.pid).children()) == 1:
                break
            time.sleep(0.05)
        found = descendant_chromium_memory(psutil.Process())
        assert found.browsers == 1
        own = psutil.Process(browser.pid)
        # Both processes, each once: a shell and a sleep barely change size meanwhile.
        tree_rss = sum(proc.memory_info().rss for proc in [own, *own.children()])
        assert 0.8 * tree_rss <= found.rss <= 1.2 * tree_rss
        # They share the C library's pages: PSS counts them once between them.
        assert found.pss is not None and 0 < found.pss < found.rss
    finally:
        for proc in psutil.Process(browser.pid).children(recursive=True):
            proc.kill()
        browser.kill()
        browser.wait()
    assert descendant_chromium_memory(psutil.Process()).browsers == 0
