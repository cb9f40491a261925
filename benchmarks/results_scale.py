"""How `compare`, `gate --results` and `report` scale with the size of a results file.

For each size N, generates two results files of N sessions each (a real session record of
the committed baseline, its times scaled by seeded noise, one session in fifty failed),
then runs `qrbench compare a.json b.json`, `qrbench gate --results a.json` and `qrbench
report a.json b.json` in subprocesses and prints each one's wall time and peak memory
(the child's own ru_maxrss, from wait4), and the HTML page's size; then `compare` of a
file whose middle session is malformed, which must be a one-line error (exit 2), as fast.

    .venv/bin/python benchmarks/results_scale.py --sessions 1000 10000 100000

See benchmarks/README.md for the figures and the limits they support.
"""

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1] / "results" / "baselines" / "optimized-lan.json"
FAILED_EVERY = 50
SEED = 20251121


@dataclass(frozen=True)
class Measured:
    command: str
    seconds: float
    peak_mb: float
    exit_code: int


def _scaled(session: dict[str, Any], factor: float) -> dict[str, Any]:
    scaled = copy.deepcopy(session)
    for key in ("time_to_qr_ms", "qr_delivered_ms"):
        if scaled[key] is not None:
            scaled[key] = round(scaled[key] * factor, 1)
    for stage in scaled["stages"]:
        stage["start_ms"] = round(stage["start_ms"] * factor, 1)
        stage["duration_ms"] = round(stage["duration_ms"] * factor, 1)
    return scaled


def _failed(session: dict[str, Any]) -> dict[str, Any]:
    failed = copy.deepcopy(session)
    error = {
        "stage": "qr_wait",
        "type": "QrTimeout",
        "message": "no QR within 30000 ms",
        "elapsed_ms": 30000.0,
    }
    failed.update(
        ok=False,
        time_to_qr_ms=None,
        qr_delivered_ms=None,
        within_deadline=False,
        error=error,
        stages=[{**stage, "ok": stage["name"] != "qr_wait"} for stage in failed["stages"][:6]],
    )
    failed["attempts"][0]["error"] = error
    return failed


def generate(
    path: Path, sessions: int, median_factor: float, seed: int, malformed: int | None = None
) -> None:
    """A results file of `sessions` measured sessions, written a session at a time; the
    session numbered `malformed` has a stage duration that is a string."""
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    model = next(s for s in template["sessions"] if s["ok"] and not s["warmup"])
    header = {k: v for k, v in template.items() if k not in ("sessions", "summary")}
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header)[:-1] + ', "sessions": [\n')
        for number in range(1, sessions + 1):
            record = _scaled(model, median_factor * rng.lognormvariate(0, 0.08))
            if number % FAILED_EVERY == 0:
                record = _failed(record)
            record.update(number=number, session_id=f"{header['run_id']}-{number}")
            if number == malformed:
                record["stages"][2]["duration_ms"] = "slow"
            out.write(("" if number == 1 else ",\n") + json.dumps(record))
        # A summary is what a finished run writes; its figures are not read back.
        out.write("\n], " + json.dumps({"summary": template["summary"]})[1:] + "\n")


def measure(arguments: list[str]) -> Measured:
    """Run one qrbench command; its wall time and the peak RSS of that child alone."""
    command = [sys.executable, "-m", "qrbench", *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    error = process.stderr.read().decode(errors="replace").strip()
    process.stderr.close()
    if error:
        print(error.splitlines()[-1], file=sys.stderr)
    # ru_maxrss is in KiB on Linux.
    return Measured(
        " ".join(["qrbench", *arguments]), seconds, usage.ru_maxrss / 1024, process.returncode
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[100_000], help="sessions per file"
    )
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    options = parser.parse_args(argv)
    broken = False
    print(
        f"{'sessions':>8} {'command':<26} {'exit':>4} {'seconds':>8} {'peak MB':>8} {'HTML MB':>8}"
    )
    for sessions in options.sessions:
        with tempfile.TemporaryDirectory(prefix="qrbench-scale-") as scratch:
            directory = options.keep or Path(scratch)
            directory.mkdir(parents=True, exist_ok=True)
            a, b = directory / "a.json", directory / "b.json"
            bad = directory / "bad.json"
            html = directory / "report.html"
            generate(a, sessions, 1.0, SEED)
            generate(b, sessions, 1.02, SEED + 1)
            generate(bad, sessions, 1.02, SEED + 1, malformed=sessions // 2)
            rows = [
                measure(["compare", str(a), str(b)]),
                measure(["gate", "--results", str(a)]),
                measure(["report", str(a), str(b), "-o", str(html)]),
                measure(["compare", str(a), str(bad)]),
            ]
            html_mb = f"{html.stat().st_size / 1e6:.2f}" if html.exists() else "-"
            for row in rows:
                name = row.command.replace(str(directory) + "/", "")
                page = html_mb if name.startswith("qrbench report") else ""
                print(
                    f"{sessions:>8} {name.removeprefix('qrbench '):<26} {row.exit_code:>4} "
                    f"{row.seconds:>8.1f} {row.peak_mb:>8.0f} {page:>8}"
                )
            # compare and report exit 0; gate 0 or 1 (a verdict); the malformed file 2 (a
            # located error); else the command broke.
            broken |= any(row.exit_code not in (0, 1) for row in rows[:3]) or (
                rows[3].exit_code != 2
            )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
