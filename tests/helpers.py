"""Helpers shared by test modules: plain functions and classes, no fixtures (those are in
conftest.py). Test modules import from here, never from each other."""

import io
import os
import socket
import ssl
import subprocess
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import qrcode
from rich.console import Console

from qrbench.analysis.capacity import CapacityStep, StepEnd, StepMemory, judge_step
from qrbench.analysis.compare import LabelledRun, run_from_results
from qrbench.analysis.explain.attribution import Explanation, explain
from qrbench.analysis.explain.plan import Direction, plan_explanation
from qrbench.analysis.summary import RunSummary
from qrbench.analysis.thresholds import Thresholds
from qrbench.columns import MeasuredSessions, StageSample
from qrbench.config.estimates import load_estimates
from qrbench.config.load import Load
from qrbench.config.loader import load_profile
from qrbench.records import ResourceUsage, SessionError, SessionResult, StageTiming
from qrbench.results import SCHEMA_VERSION, SavedResults

# The replica's certificate is made per run and trusted by Chromium through its key; a
# test's own HTTP client checks what the replica serves, not the certificate.
REPLICA_TLS = ssl.create_default_context()
REPLICA_TLS.check_hostname = False
REPLICA_TLS.verify_mode = ssl.CERT_NONE


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


# Shares of time-to-QR per critical stage, roughly as measured on the replica.
STAGE_SHARES = {"auth_restore": 0.0, "browser_launch": 0.45, "page_load": 0.5, "qr_wait": 0.05}
ENVIRONMENT = {
    "chromium": "Chromium 131.0.6778.139",
    "cpu_model": "Test CPU",
    "cpu_cores": 4,
    "load_average": [0.2, 0.3, 0.3],
}


def session_record(
    number: int, time_to_qr_ms: float | None, *, warmup: bool = False, error_type: str = ""
) -> dict[str, Any]:
    """A session record as results.py writes it; `time_to_qr_ms=None` records a failure."""
    ok = time_to_qr_ms is not None
    stages = []
    start = 0.0
    for name, share in STAGE_SHARES.items():
        duration = round((time_to_qr_ms or 1000.0) * share, 1)
        stages.append(
            {"name": name, "start_ms": start, "duration_ms": duration, "critical": True, "ok": ok}
        )
        start += duration
    stages.append(
        {"name": "qr_verify", "start_ms": start, "duration_ms": 120.0, "critical": False, "ok": ok}
    )
    error = None
    if not ok:
        error = {
            "stage": "qr_wait",
            "type": error_type or "QrTimeout",
            "message": "no QR within 30000 ms",
            "elapsed_ms": 30000.0,
        }
    return {
        "number": number,
        "session_id": f"run-{number}",
        "warmup": warmup,
        "ok": ok,
        "time_to_qr_ms": time_to_qr_ms,
        "within_deadline": ok and (time_to_qr_ms or 0) <= 10000,
        "error": error,
        "stages": stages,
        "resources": None,
        "web_cache": "hit",
        "refs_seen": 1 if ok else 0,
    }


def results_document(
    profile: str,
    times: list[float | None],
    *,
    warmup_ms: float | None = None,
    environment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A results document: an optional warmup session, then one measured session per time."""
    sessions = []
    if warmup_ms is not None:
        sessions.append(session_record(1, warmup_ms, warmup=True))
    for ms in times:
        sessions.append(session_record(len(sessions) + 1, ms))
    return {
        "schema_version": SCHEMA_VERSION,
        "qrbench_version": "0.1.0",
        "run_id": f"run-{profile}",
        "created_at": "2026-11-29T10:57:23+00:00",
        "plan": {"runs": len(times), "warmup": 0 if warmup_ms is None else 1},
        "profile": {"name": profile},
        "scenario": {"name": "lan"},
        # A copy: a test that edits its document leaves the next one its own.
        "environment": dict(environment or ENVIRONMENT),
        "sessions": sessions,
        "summary": None,
    }


def draw(rng: np.random.Generator, median_ms: float, n: int, spread: float = 0.05) -> list[float]:
    """`n` times in ms scattered log-normally around `median_ms`, rounded as results are."""
    return [round(float(x), 1) for x in rng.lognormal(np.log(median_ms), spread, n)]


# Stage medians (ms) shaped like a real run's: two large stages, the rest small.
AA_STAGE_MEDIANS = {
    "auth_restore": 5.0,
    "browser_launch": 650.0,
    "web_version": 2.0,
    "page_load": 650.0,
    "qr_wait": 27.0,
    "qr_encode": 30.0,
    "webhook": 4.0,
    "db_update": 2.0,
    "qr_verify": 130.0,
    "chat_sync": 60.0,
}
AA_BACKGROUND = ("qr_verify", "chat_sync")


def synthetic_run(
    rng: np.random.Generator,
    label: str,
    runs: int,
    stage_medians: dict[str, float] = AA_STAGE_MEDIANS,
    spread: float = 0.15,
    background: tuple[str, ...] = AA_BACKGROUND,
) -> LabelledRun:
    """`runs` successful sessions whose stages vary independently, log-normally around
    `stage_medians`; time-to-QR is the sum of the critical ones, as in a real session."""
    durations = {name: draw(rng, median, runs, spread) for name, median in stage_medians.items()}
    critical = [name for name in stage_medians if name not in background]
    qr_times = [sum(durations[name][i] for name in critical) for i in range(runs)]
    sessions = MeasuredSessions(
        numbers=array("q", range(1, runs + 1)),
        succeeded=runs,
        qr_numbers=array("q", range(1, runs + 1)),
        qr_times=array("d", qr_times),
        stages={
            name: StageSample(array("d", values), name not in background)
            for name, values in durations.items()
        },
        spans={},
        failures=[],
    )
    return LabelledRun(label, f"{label}.json", sessions, ENVIRONMENT)


def rendered(renderable: object, width: int = 80) -> list[str]:
    """The lines a terminal of `width` columns shows of a Rich renderable."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().splitlines()


def table_lines(lines: list[str]) -> list[str]:
    """The body rows of the Rich tables among `lines` (they hold a column rule)."""
    return [line for line in lines if "│" in line]


def labelled_document(document: dict[str, Any], label: str, source: str) -> LabelledRun:
    """A results document as compare reads it from the file `source`."""
    return run_from_results(SavedResults.from_dict(document, Path(source)), label)


def labelled(label: str, times: list[float | None], **kwargs: Any) -> LabelledRun:
    """A results document of `times` as compare reads it from a file named after `label`."""
    return labelled_document(results_document(label, times, **kwargs), label, f"{label}.json")


def synthetic_explanation(seed: int, direction: Direction = Direction.BOTH) -> Explanation:
    """`explain new optimized` on drawn times: new 9 s, optimized 1.5 s, every switched
    variant halfway, with the study's estimates (`seed`) beside them."""
    plan = plan_explanation(load_profile("new"), load_profile("optimized"), direction)
    rng = np.random.default_rng(seed)
    medians = {plan.slow: 9000.0, plan.fast: 1500.0}
    runs = [
        labelled(c.label, list(draw(rng, medians.get(c.label, 5000.0), 6)))
        for c in plan.configurations
    ]
    return explain(plan, runs, "lan", load_estimates("seed"))


def saved(
    profile: str, times: list[float | None], *, gate: dict[str, Any] | None = None, **kwargs: Any
) -> SavedResults:
    """A results document of `times` as gate reads it, its profile carrying `gate`."""
    document = results_document(profile, times, **kwargs)
    if gate is not None:
        document["profile"]["gate"] = gate
    return SavedResults.from_dict(document, Path(f"{profile}.json"))


def session(number: int, time_to_qr_ms: float | None, *, warmup: bool = False) -> SessionResult:
    """A session result as the runner makes it; `time_to_qr_ms=None` records a failure."""
    ok = time_to_qr_ms is not None
    stages = [StageTiming("page_load", 0.0, 100.0 * number, True, True)]
    return SessionResult(
        number=number,
        session_id=f"s{number}",
        warmup=warmup,
        ok=ok,
        time_to_qr_ms=time_to_qr_ms,
        qr_delivered_ms=None,
        time_to_ready_ms=None,
        within_deadline=ok and time_to_qr_ms is not None and time_to_qr_ms <= 10_000,
        error=None if ok else SessionError("qr_wait", "QrTimeout", "no QR", 30_000.0),
        stages=stages,
        resources=ResourceUsage(peak_rss_mb=300.0, cpu_time_s=1.0, processes=6) if ok else None,
        auth="localauth",
        web_cache="miss",
        refs_seen=1 if ok else 0,
        refs_delivered=1 if ok else 0,
        db_statements=1,
        chats_synced=0,
    )


CAPACITY_CRITERION = Thresholds(
    target_ms=10_000, percentile=95, min_success_percent=98, max_regression_percent=10
)
# Two sessions in two browsers of 300 MB (PSS) each at the peak.
TWO_BROWSERS = StepMemory(
    peak_rss_mb=800.0, peak_pss_mb=600.0, browsers_at_peak=2, sessions_at_peak=2
)


def capacity_step(
    number: int,
    load: Load,
    times: list[float | None],
    *,
    end: StepEnd = StepEnd.COMPLETE,
    memory: StepMemory | None = TWO_BROWSERS,
    swap_used_peak_mb: float = 0.0,
) -> CapacityStep:
    """A ramp's step whose sessions took `times` (None: a failed session), judged against
    CAPACITY_CRITERION (p95 at most 10 s, 98 % success)."""
    sessions = MeasuredSessions.of([session(n, t) for n, t in enumerate(times, start=1)])
    return CapacityStep(
        number=number,
        load=load,
        results_path=f"step-{number}.json",
        end=end,
        duration_s=1.0,
        judgement=judge_step(sessions, CAPACITY_CRITERION),
        cpu_percent=50.0,
        memory=memory,
        swap_used_start_mb=0.0,
        swap_used_peak_mb=swap_used_peak_mb,
    )


def run_summary(**given: Any) -> RunSummary:
    """A run summary with `given` fields; the rest (the renderers do not read them) None."""
    return RunSummary(**{field.name: None for field in fields(RunSummary)} | given)


# The lan scenario with a lighter page, so real-browser tests stay quick.
# A light page, and little of the page's work: real-browser tests stay quick.
SMALL_WORLD = (
    "extends: lan\nreplica:\n  index_kb: 100\n  bundle_kb: 256\n"
    "  page:\n    assets: 8\n    asset_kb: 4\n"
)


def qrbench(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`qrbench *args` in its own process, as a user runs it, in a fixed terminal width."""
    return subprocess.run(
        [sys.executable, "-m", "qrbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        check=False,
    )


def qrbench_with_small_shm(
    size: str, *args: str, cwd: Path, columns: int = 120
) -> subprocess.CompletedProcess[str]:
    """`qrbench *args` in a mount namespace of its own whose /dev/shm is a tmpfs of `size`
    (`16m`): a container started with a small one. Needs root and unshare."""
    script = f'mount -t tmpfs -o size={size} tmpfs /dev/shm && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-m", "qrbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": str(columns)},
        check=False,
    )


def packages_loaded_by(module: str) -> set[str]:
    """The top-level packages importing `module` loads, in a fresh interpreter (a test
    process has imported everything already)."""
    probe = f"import sys, {module}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


@contextmanager
def fifo_reader(path: Path) -> Iterator[Callable[[], bytes]]:
    """A reader on the FIFO `path`, open before any writer so that the writer never blocks;
    `read()` gives what was written, b"" when nothing reached this FIFO (say, it was
    replaced by a file of the same name)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)

    def read() -> bytes:
        chunks = []
        try:
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        except BlockingIOError:  # a writer still has it open, with nothing more written yet
            pass
        return b"".join(chunks)

    try:
        yield read
    finally:
        os.close(fd)


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports nothing listens on (checked, then
    released: another program could take them in between, which no test here does)."""
    for _ in range(50):
        with socket.create_server(("127.0.0.1", 0)) as probe:
            first: int = probe.getsockname()[1]
        try:
            for port in range(first, first + count):
                socket.create_server(("127.0.0.1", port)).close()
        except OSError:
            continue
        return first
    raise AssertionError("no free consecutive ports")
