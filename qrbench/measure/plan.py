"""What to run and what a run gave: plans, outcomes and the listener that hears progress.

Data only, so the command line can build plans without loading browser code.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from qrbench.analysis.summary import RunSummary
from qrbench.config.load import ONE_AT_A_TIME, Load
from qrbench.config.models import Profile, Scenario
from qrbench.records import SessionResult


class RunListener(Protocol):
    """Progress of a run; `label` names the profile (several in a comparison)."""

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None: ...
    def session_started(self, label: str, number: int, warmup: bool) -> None: ...
    def stage_started(self, label: str, number: int, stage: str) -> None: ...
    def session_finished(self, label: str, result: SessionResult) -> None: ...
    def warning(self, message: str) -> None: ...
    def notice(self, message: str) -> None:
        """Something the user may act on that is not a problem (where to send spans)."""
        ...


@dataclass(frozen=True)
class RunPlan:
    profile: Profile
    scenario: Scenario
    runs: int
    warmup: int
    results_path: Path
    keep_profiles: bool = False
    # What progress calls this profile; tells apart A/A comparisons of one profile.
    label: str = ""
    load: Load = ONE_AT_A_TIME
    # Where the replica listens (world/loopback.py's BIND_ADDRESS unless --replica-bind).
    replica_bind: str = "127.0.0.1"
    # Where qrbench's webhook receiver listens (loopback unless --receiver-bind).
    receiver_bind: str = "127.0.0.1"
    # `--runs auto`: `runs` is the most a sequential design may take, not a count.
    adaptive: bool = False

    def schedule(self) -> list[bool]:
        """One entry per session, True for a warmup session."""
        return [True] * self.warmup + [False] * self.runs


@dataclass(frozen=True)
class RunOutcome:
    results_path: Path
    sessions: list[SessionResult]
    summary: RunSummary
    data_path: Path | None
