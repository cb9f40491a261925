"""qrbench over a long run: does anything of its own grow with the sessions it has run?

Starts one `qrbench run` of --sessions sessions (and then, unless --no-capacity, one pooled
`qrbench capacity` step of --capacity-sessions) as a child process, and every --every
finished sessions prints the child's RSS, open file descriptors, threads, the temp
directories it has open under the temp dir, and the results file's size. Afterwards it
looks for any Chromium, Node or redis-server left behind.

    .venv/bin/python benchmarks/soak.py --sessions 500 --every 50

Flat means: after the first sample (warm-up), RSS within --rss-bound-mb of the first
sample's, and fds and threads within --count-bound of it; the results file grows by a few
KB a session (it holds every session), which is its job, not a leak.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

LEFTOVER_NAMES = ("chrom", "node", "redis-server")


@dataclass(frozen=True)
class Sample:
    sessions: int
    elapsed_s: float
    rss_mb: float
    fds: int
    threads: int
    temp_dirs: int
    results_kb: float


def _finished(path: Path) -> int:
    try:
        return len(json.loads(path.read_text())["sessions"])
    except (OSError, ValueError, KeyError):
        return 0  # not written yet, or being replaced (atomic rename) right now


def _sample(
    process: psutil.Process, sessions: int, started: float, results: Path, temp: Path
) -> Sample:
    with process.oneshot():
        rss = process.memory_info().rss / 2**20
        fds = process.num_fds()
        threads = process.num_threads()
    size = results.stat().st_size / 1024 if results.exists() else 0.0
    return Sample(
        sessions,
        time.monotonic() - started,
        rss,
        fds,
        threads,
        # The child's TMPDIR is its own: every directory there is qrbench's, Playwright's
        # or Chromium's (profiles, a private Redis's dir).
        sum(1 for entry in temp.iterdir() if entry.is_dir()),
        size,
    )


def _print(sample: Sample) -> None:
    print(
        f"{sample.sessions:>8} {sample.elapsed_s:>8.0f} {sample.rss_mb:>8.1f} {sample.fds:>5} "
        f"{sample.threads:>7} {sample.temp_dirs:>9} {sample.results_kb:>11.1f}",
        flush=True,
    )


def soak(command: list[str], results: Path, every: int, temp: Path) -> list[Sample]:
    print(f"$ {' '.join(command)}")
    print(f"{'sessions':>8} {'time s':>8} {'RSS MB':>8} {'fds':>5} {'threads':>7} "
          f"{'temp dirs':>9} {'results KB':>11}")  # fmt: skip
    started = time.monotonic()
    temp.mkdir(exist_ok=True)
    child = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    process = psutil.Process(child.pid)
    samples: list[Sample] = []
    next_at = every
    try:
        while child.poll() is None:
            done = _finished(results)
            if done >= next_at:
                try:
                    samples.append(_sample(process, done, started, results, temp))
                except psutil.NoSuchProcess:
                    break
                _print(samples[-1])
                next_at = (done // every + 1) * every
            time.sleep(0.2)
        _, stderr = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
    if child.returncode != 0:
        print(f"exit {child.returncode}: {stderr.strip()[-400:]}")
    print(f"finished: {_finished(results)} sessions, exit {child.returncode}")
    return samples


def judge(samples: list[Sample], rss_bound_mb: float, count_bound: int) -> list[str]:
    """What grew past the bounds after the first sample (the warm-up)."""
    if len(samples) < 2:
        return ["too few samples to judge"]
    first, rest = samples[0], samples[1:]
    problems = []
    for name, bound in (("rss_mb", rss_bound_mb), ("fds", count_bound), ("threads", count_bound)):
        worst = max(getattr(sample, name) for sample in rest) - getattr(first, name)
        if worst > bound:
            problems.append(f"{name} grew by {worst:.1f} (bound {bound})")
    if max(sample.temp_dirs for sample in rest) > first.temp_dirs + count_bound:
        problems.append("temp dirs accumulate")
    return problems


def leftovers(temp: Path) -> list[str]:
    """Chromium, Node or redis-server started by the soak's runs: they inherited its TMPDIR
    (other runs on the machine, a test suite say, are not counted)."""
    found = []
    for process in psutil.process_iter(["name", "pid"]):
        name = process.info["name"] or ""
        if not any(name.startswith(prefix) for prefix in LEFTOVER_NAMES):
            continue
        try:
            ours = process.environ().get("TMPDIR") == str(temp) or any(
                str(temp) in arg for arg in process.cmdline()
            )
        except psutil.Error:
            continue
        if ours:
            found.append(f"{name} ({process.info['pid']})")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--profile", default="optimized")
    parser.add_argument("--capacity-sessions", type=int, default=200)
    parser.add_argument("--capacity-in-flight", type=int, default=4)
    parser.add_argument("--no-capacity", action="store_true")
    parser.add_argument("--rss-bound-mb", type=float, default=20.0)
    parser.add_argument("--count-bound", type=int, default=5)
    args = parser.parse_args()

    qrbench = [sys.executable, "-m", "qrbench"]
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        results = Path(scratch) / "soak.json"
        run = [*qrbench, "run", "-p", args.profile, "-n", str(args.sessions), "-w", "1",
               "-o", str(results)]  # fmt: skip
        samples = soak(run, results, args.every, Path(scratch) / "tmp")
        verdicts.append(("run", judge(samples, args.rss_bound_mb, args.count_bound)))
        if not args.no_capacity:
            ramp = Path(scratch) / "ramp.json"
            step = ramp.with_suffix("") / "step-1.json"
            capacity = [*qrbench, "capacity", "-p", "pooled", "--steps",
                        str(args.capacity_in_flight), "--sessions-per-step",
                        str(args.capacity_sessions), "-o", str(ramp)]  # fmt: skip
            samples = soak(capacity, step, args.every, Path(scratch) / "tmp")
            verdicts.append(("capacity", judge(samples, args.rss_bound_mb, args.count_bound)))
        time.sleep(1.0)  # a child's last children are reaped just after it exits
        left = leftovers(Path(scratch) / "tmp")
    for name, problems in verdicts:
        print(f"{name}: {'flat' if not problems else '; '.join(problems)}")
    print(f"left running: {', '.join(left) if left else 'nothing'}")
    return 1 if left or any(problems for _, problems in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
