"""Helpers for tests that run whole plans in real Chromium.

Apart from tests/helpers.py so that tests of results, analysis and reports do not import
the runner and its browser code.
"""

import asyncio
from pathlib import Path

from qrbench.config.loader import load_profile, load_scenario
from qrbench.measure.runner import RunOutcome, RunPlan, run
from qrbench.records import SessionResult
from tests.helpers import write_yaml

# Where `run_profile` writes its results file, under its tmp_path.
RESULTS = Path("results") / "run.json"


class RecordingListener:
    """A RunListener that keeps every event, in order, as a tuple."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None:
        self.events.append(("run", total_sessions))

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        self.events.append(("start", label, number, warmup))

    def stage_started(self, label: str, number: int, stage: str) -> None:
        self.events.append(("stage", label, number, stage))

    def session_finished(self, label: str, result: SessionResult) -> None:
        self.events.append(("done", label, result.number, result.ok))

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))

    def notice(self, message: str) -> None:
        self.events.append(("notice", message))


def run_profile(
    tmp_path: Path,
    profile_yaml: str,
    scenario: Path,
    *,
    runs: int,
    warmup: int = 0,
    keep_profiles: bool = False,
    listener: RecordingListener | None = None,
    name: str = "profile",
) -> tuple[RunOutcome, RecordingListener]:
    """Run `profile_yaml` (written under `tmp_path` as `name`.yaml, the profile's name
    unless it says one) in `scenario`, as `qrbench run` would."""
    profile = load_profile(str(write_yaml(tmp_path / f"{name}.yaml", profile_yaml)))
    plan = RunPlan(
        profile=profile,
        scenario=load_scenario(str(scenario)),
        runs=runs,
        warmup=warmup,
        results_path=tmp_path / RESULTS,
        keep_profiles=keep_profiles,
    )
    listener = listener or RecordingListener()
    return asyncio.run(run(plan, listener)), listener
