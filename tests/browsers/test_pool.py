"""The warm pool: pre-launched local Chromiums, a fresh context for every session."""

import asyncio
import json
from pathlib import Path

import pytest

from qrbench.browsers.local import PlaywrightDriver
from qrbench.browsers.pool import PooledProvider
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Browser
from qrbench.measure.plan import RunOutcome, RunPlan
from qrbench.measure.runner import Machinery, run
from tests.helpers import SMALL_WORLD, qrbench, write_yaml
from tests.run_helpers import RecordingListener

# What a session would leave in its profile: a cookie.
_COOKIE = {"name": "session", "value": "left-over", "url": "http://pool.test/"}


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_sessions_share_the_pooled_browsers_each_in_a_fresh_context() -> None:
    config = Browser(pool=2)

    async def scenario() -> None:
        async with PooledProvider(2) as provider:
            browsers = []
            for _ in range(4):
                session = await provider.launch(config, Path("/unused"), [])
                assert await session.context.cookies() == []
                await session.context.add_cookies([_COOKIE])  # type: ignore[list-item]
                browsers.append(session.context.browser)
                assert await session.close() is None
            # Two launches for four sessions, taken in turns.
            assert provider.launches == 2
            assert browsers[0] is browsers[2] and browsers[1] is browsers[3]
            assert browsers[0] is not browsers[1]
            in_flight = await asyncio.gather(
                *(provider.launch(config, Path("/unused"), []) for _ in range(3))
            )
            assert len({id(session.context) for session in in_flight}) == 3
            await asyncio.gather(*(session.close() for session in in_flight))
            assert provider.launches == 2

    asyncio.run(scenario())


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_pooled_browser_that_died_is_replaced() -> None:
    config = Browser(pool=1)

    async def scenario() -> None:
        async with PooledProvider(1) as provider:
            first = await provider.launch(config, Path("/unused"), [])
            dead = first.context.browser
            assert dead is not None
            await dead.close()
            second = await provider.launch(config, Path("/unused"), [])
            assert second.context.browser is not dead
            assert provider.launches == 2
            await second.close()

    asyncio.run(scenario())


def _run_pooled(tmp_path: Path, world: str, runs: int) -> tuple[RunOutcome, PooledProvider]:
    """A run of the pooled profile in `world`; the pool it ran on, to count its launches."""
    pools: list[PooledProvider] = []

    def pooled(config: Browser, driver: PlaywrightDriver) -> PooledProvider:
        assert config.pool is not None
        pools.append(PooledProvider(config.pool, driver))
        return pools[-1]

    plan = RunPlan(
        profile=load_profile("pooled"),
        scenario=load_scenario(str(write_yaml(tmp_path / "world.yaml", world))),
        runs=runs,
        warmup=1,
        results_path=tmp_path / "run.json",
    )
    outcome = asyncio.run(run(plan, RecordingListener(), Machinery(provider=pooled)))
    (pool,) = pools
    return outcome, pool


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_run_of_the_pooled_profile_launches_the_pool_once(tmp_path: Path) -> None:
    outcome, pool = _run_pooled(tmp_path, SMALL_WORLD, runs=3)
    assert outcome.summary.succeeded == 3
    assert pool.launches == 2  # the pool's size, for four sessions
    # The pool's memory is shared by its sessions: not split, reported unavailable.
    assert [session.resources for session in outcome.sessions] == [None] * 4


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_qrbench_run_with_the_pooled_profile_passes(tmp_path: Path) -> None:
    results = tmp_path / "run.json"
    done = qrbench(
        *("run", "--profile", "pooled", "--runs", "2", "--warmup", "0"),
        *("--output", str(results)),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    document = json.loads(results.read_text())
    assert document["profile"]["browser"]["pool"] == 2
    assert document["summary"]["peak_rss_mb"] is None


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_crash_strikes_the_sessions_page_and_the_pool_lives_on(tmp_path: Path) -> None:
    outcome, pool = _run_pooled(tmp_path, SMALL_WORLD + "faults:\n  browser_crash: 1.0\n", runs=2)
    errors = [session.error.type if session.error else None for session in outcome.sessions]
    assert errors == ["BrowserCrashed"] * 3
    assert pool.launches == 2
