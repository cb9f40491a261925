"""A run of several profiles (compare, explain) shares one Playwright driver and one
private Redis among them, however many variants it interleaves; a gateway run starts no
driver at all."""

import asyncio
import collections
import os
from pathlib import Path

import psutil
import pytest

from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Profile
from qrbench.measure.runner import RunPlan, run_interleaved
from qrbench.world.stores import REDIS_URL_ENV
from tests.helpers import SMALL_WORLD, write_yaml
from tests.run_helpers import RecordingListener

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]


class _CountingListener(RecordingListener):
    """Counts this process's Node and redis-server descendants as each session starts."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[collections.Counter[str]] = []

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        super().session_started(label, number, warmup)
        names = collections.Counter[str]()
        for child in psutil.Process(os.getpid()).children(recursive=True):
            try:
                command = child.cmdline()
            except psutil.NoSuchProcess:
                continue
            # The command's name: Node renames its main thread (node-MainThread) and
            # Debian's redis-server is a link to redis-check-rdb. A zombie has none.
            if command:
                names[Path(command[0].split()[0]).name] += 1
        self.counts.append(names)


def _variant(profile: Profile, timeout_ms: int) -> Profile:
    browser = profile.browser.model_copy(update={"timeout_ms": timeout_ms})
    return profile.model_copy(update={"browser": browser})


def test_four_profiles_interleaved_run_on_one_driver_and_one_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    new = load_profile("new")
    # Two RemoteAuth variants (as explain makes), LocalAuth, and a pool.
    profiles = [new, _variant(new, 29_000), load_profile("old"), load_profile("pooled")]
    world = load_scenario(str(write_yaml(tmp_path / "small.yaml", SMALL_WORLD)))
    plans = [
        RunPlan(
            profile=profile,
            scenario=world,
            runs=1,
            warmup=1,
            results_path=tmp_path / f"{index}.json",
            label=f"variant-{index}",
        )
        for index, profile in enumerate(profiles)
    ]
    listener = _CountingListener()
    outcomes = asyncio.run(run_interleaved(plans, listener))
    assert [outcome.summary.succeeded for outcome in outcomes] == [1, 1, 1, 1]
    assert len(listener.counts) == 8
    for names in listener.counts:
        assert names["node"] == 1, names
        assert names["redis-server"] == 1, names


def test_a_gateway_run_starts_no_playwright_driver(tmp_path: Path) -> None:
    world = load_scenario(str(write_yaml(tmp_path / "small.yaml", SMALL_WORLD)))
    plan = RunPlan(
        profile=load_profile("gateway-optimized"),
        scenario=world,
        runs=2,
        warmup=0,
        results_path=tmp_path / "gateway.json",
    )
    listener = _CountingListener()
    (outcome,) = asyncio.run(run_interleaved([plan], listener))
    assert outcome.summary.succeeded == 2
    # The reference gateway's Node only: the gateway launches its own Chromiums.
    assert [names["node"] for names in listener.counts] == [1, 1]
