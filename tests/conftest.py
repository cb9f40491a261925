"""Shared fixtures: a page server for `target.url` tests and Chromium process counting."""

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
import qrcode


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


class PageServer:
    """Serves fixed pages on 127.0.0.1 for tests that point `target.url` at a custom page."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                body = self.pages.get(handler.path)
                if body is None:
                    handler.send_error(404)
                    return
                data = body.encode("utf-8")
                handler.send_response(200)
                handler.send_header("Content-Type", "text/html; charset=utf-8")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

            def log_message(handler, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> "PageServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def qr_page(data_ref: str, *, delay_after_load_ms: int, canvas_text: str | None = None) -> str:
    """A page that draws WhatsApp's QR DOM `delay_after_load_ms` after its load event.

    `canvas_text` draws a different string than data-ref says, for mismatch tests.
    """
    code = qrcode.QRCode(border=4, box_size=1)
    code.add_data(canvas_text if canvas_text is not None else data_ref)
    code.make(fit=True)
    rows = ["".join("1" if cell else "0" for cell in row) for row in code.get_matrix()]
    return f"""<!doctype html><html><body><script>
const rows = {rows!r};
function draw() {{
  const holder = document.createElement('div');
  holder.setAttribute('data-ref', {data_ref!r});
  const canvas = document.createElement('canvas');
  canvas.width = 264; canvas.height = 264;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 264, 264);
  const cell = Math.floor(264 / rows.length);
  ctx.fillStyle = '#000';
  rows.forEach((row, y) => [...row].forEach((bit, x) => {{
    if (bit === '1') ctx.fillRect(x * cell, y * cell, cell, cell);
  }}));
  holder.appendChild(canvas);
  document.body.appendChild(holder);
}}
window.addEventListener('load', () => setTimeout(draw, {delay_after_load_ms}));
</script></body></html>"""


def write_yaml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
