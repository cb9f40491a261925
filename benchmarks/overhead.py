"""qrbench's own overhead: its model engine against a bare Playwright script doing the same steps.

Both sides launch Chromium on a fresh profile dir with the same args, navigate to the same
local replica and take the QR from the same page-side observer. They run in alternating
blocks on this machine, so drift (a warming machine, a neighbour's load) falls on both.
qrbench is driven only through its public runner API, so this script does not depend on
how a session is put together inside.

    .venv/bin/python benchmarks/overhead.py --blocks 10 --per-block 5

See benchmarks/README.md for what the ratio means.
"""

import argparse
import asyncio
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

from playwright.async_api import Playwright, async_playwright

from qrbench.analysis import stats
from qrbench.browsers.local import launch_args
from qrbench.browsers.processes import reap
from qrbench.clock import SessionTimer
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Profile, Scenario
from qrbench.engines.model.pagewatch import PageWatcher
from qrbench.measure.runner import RunPlan, run
from qrbench.records import SessionResult, Stage
from qrbench.world import emulation
from qrbench.world.replica import Replica, ReplicaConfig, ReplicaUrls

PROFILE = "optimized"
# Critical stages the bare script has no counterpart for: the gateway's own work around
# the browser (auth_restore has one: the bare script makes its profile dir too).
OWN_STAGES = (
    Stage.ROUTE,
    Stage.WEB_VERSION,
    Stage.QR_DEDUPE,
    Stage.QR_ENCODE,
    Stage.WEBHOOK,
    Stage.DB_UPDATE,
)


class BenchmarkFailed(Exception):
    """A session failed: there is no overhead to measure until it works."""


class IgnoreEvents:
    """A RunListener that hears nothing: progress is this script's to print."""

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None:
        pass

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        pass

    def stage_started(self, label: str, number: int, stage: str) -> None:
        pass

    def session_finished(self, label: str, result: SessionResult) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


async def qrbench_block(
    profile: Profile, scenario: Scenario, sessions: int, results_path: Path
) -> list[SessionResult]:
    plan = RunPlan(
        profile=profile, scenario=scenario, runs=sessions, warmup=0, results_path=results_path
    )
    outcome = await run(plan, IgnoreEvents())
    failed = [s.error for s in outcome.sessions if not s.ok]
    if failed:
        raise BenchmarkFailed(f"a qrbench session failed: {failed[0]}")
    return outcome.sessions


async def bare_block(
    profile: Profile, scenario: Scenario, sessions: int, scratch: Path
) -> list[float]:
    # What qrbench's runner gives the replica, less what only qrbench's sessions use
    # (ref rotation, the phone scan, the version host): none of it comes before the QR.
    replica = Replica(
        ReplicaConfig(
            version=profile.web_version,
            index_kb=scenario.replica.index_kb,
            bundle_kb=scenario.replica.bundle_kb,
        )
    )
    urls = replica.start()
    try:
        async with async_playwright() as playwright:
            return [
                await bare_session(playwright, profile, scenario, urls, scratch)
                for _ in range(sessions)
            ]
    finally:
        replica.stop()


async def bare_session(
    playwright: Playwright, profile: Profile, scenario: Scenario, urls: ReplicaUrls, scratch: Path
) -> float:
    """Milliseconds from the start to the QR in the page (and the load event fired)."""
    browser = profile.browser
    timer = SessionTimer()
    user_data_dir = Path(tempfile.mkdtemp(prefix="bare-", dir=scratch))
    try:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir,
            executable_path=browser.executable_path,
            headless=browser.headless,
            args=launch_args(browser, urls.chromium_args()),
            timeout=browser.timeout_ms,
            user_agent=browser.user_agent,
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            watcher = PageWatcher(timer.now_ms)
            await watcher.install(context, page)
            # qrbench keeps this off its clock too; it does nothing at all on `lan`.
            with timer.harness():
                await emulation.apply(context, page, scenario.network, scenario.cpu)
            await page.goto(urls.whatsapp, wait_until="load", timeout=browser.navigation_timeout_ms)
            loaded_ms = timer.now_ms()
            shown_ms, _ = await watcher.first_qr(browser.timeout_ms)
            # As qrbench's qr_wait: a QR drawn before `load` is in hand at `load`.
            return max(shown_ms, loaded_ms)
        finally:
            await context.close()
    finally:
        reap([user_data_dir])
        shutil.rmtree(user_data_dir, ignore_errors=True)


def own_stages_ms(session: SessionResult) -> dict[str, float]:
    return {s.name: s.duration_ms for s in session.stages if s.critical and s.name in OWN_STAGES}


def time_to_qr(session: SessionResult) -> float:
    assert session.time_to_qr_ms is not None  # qrbench_block refuses failed sessions
    return session.time_to_qr_ms


def median_of(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f} ms"


async def measure(blocks: int, per_block: int, scenario_ref: str) -> None:
    profile, scenario = load_profile(PROFILE), load_scenario(scenario_ref)
    sessions: list[SessionResult] = []
    bare_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="qrbench-overhead-") as scratch_dir:
        scratch = Path(scratch_dir)
        print(f"warmup: one session each, {PROFILE} on {scenario.name} (discarded)", flush=True)
        await qrbench_block(profile, scenario, 1, scratch / "warmup.json")
        await bare_block(profile, scenario, 1, scratch)
        for block in range(1, blocks + 1):
            qrbench_side = qrbench_block(profile, scenario, per_block, scratch / f"{block}.json")
            bare_side = bare_block(profile, scenario, per_block, scratch)
            # A B, then B A: each side goes first in half the blocks.
            if block % 2:
                sessions += await qrbench_side
                bare_ms += await bare_side
            else:
                bare_ms += await bare_side
                sessions += await qrbench_side
            print(
                f"block {block}/{blocks}: qrbench {median_of([time_to_qr(s) for s in sessions])}"
                f", bare {median_of(bare_ms)} (running medians)",
                flush=True,
            )
    report([time_to_qr(s) for s in sessions], bare_ms, [own_stages_ms(s) for s in sessions])


def report(qrbench_ms: list[float], bare_ms: list[float], own: list[dict[str, float]]) -> None:
    print(f"\nqrbench ({PROFILE}) time-to-QR: median {median_of(qrbench_ms)}, n={len(qrbench_ms)}")
    print(f"bare Playwright QR seen:      median {median_of(bare_ms)}, n={len(bare_ms)}")
    ratio = stats.ratio_of_medians(qrbench_ms, bare_ms)
    assert ratio is not None  # a bare session takes hundreds of ms, never 0
    print(
        f"ratio qrbench/bare: {ratio.value:.2f}x (95% CI {ratio.ci_low:.2f}x-{ratio.ci_high:.2f}x)"
    )
    gap = stats.median_difference(qrbench_ms, bare_ms)
    print(f"difference: {gap.value:+.0f} ms (95% CI {gap.ci_low:+.0f} to {gap.ci_high:+.0f} ms)")
    per_stage = {
        name: statistics.median(stages.get(name, 0.0) for stages in own)
        for name in sorted({name for stages in own for name in stages})
    }
    total = statistics.median(sum(stages.values()) for stages in own)
    detail = ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(per_stage.items(), key=lambda i: -i[1])
    )
    print(f"of which qrbench's own stages: {total:.1f} ms median ({detail})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--blocks", type=int, default=10, help="blocks, each with both sides (default 10)"
    )
    parser.add_argument(
        "--per-block", type=int, default=5, help="sessions per side and block (default 5)"
    )
    parser.add_argument("--scenario", default="lan", help="scenario name or file (default lan)")
    args = parser.parse_args(argv)
    if args.blocks < 1 or args.per_block < 1:
        parser.error("--blocks and --per-block must be at least 1")
    try:
        asyncio.run(measure(args.blocks, args.per_block, args.scenario))
    except BenchmarkFailed as exc:
        parser.exit(1, f"overhead: {exc}\n")


if __name__ == "__main__":
    main()
