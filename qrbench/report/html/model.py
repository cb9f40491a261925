"""What the HTML report shows, gathered before any chart is drawn.

The charts take these, not files or analysis objects: a run's records and columns as read
by `qrbench.results`, and an attribution as bars, whether it came from `explain` just now
or from its `--json` export read back.
"""

from dataclasses import dataclass, field
from typing import Any

from qrbench.analysis.explain.attribution import Explanation
from qrbench.capacity_results import SavedCapacity
from qrbench.records import SessionResult
from qrbench.report.wording.explain import RowKind
from qrbench.results import SavedResults


@dataclass(frozen=True)
class RunData:
    """One labelled run: its measured sessions' columns, the records of those its waterfall
    draws, and its target."""

    label: str
    # Its records are the drawn sessions' only (`sampling`); its columns hold them all.
    saved: SavedResults
    target_ms: float
    # Session number -> what it stands for (fastest, median, p95, slowest), when the run
    # is too large to draw every session; None when every one is drawn.
    roles: dict[int, str] | None = None

    @property
    def sessions(self) -> list[SessionResult]:
        """The measured sessions drawn (warmups left out), in the order started."""
        return self.saved.measured

    @property
    def environment(self) -> dict[str, Any]:
        return self.saved.environment


@dataclass(frozen=True)
class RunsPart:
    """One or more runs side by side: waterfalls, stage distributions, the ECDF."""

    title: str
    runs: list[RunData]
    # Phrased already (report/wording): what a reader should know before trusting it.
    caveats: list[str]
    # Phrased: how `--runs auto` stopped, its heading first; empty for --runs N.
    stopping: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AttributionBar:
    """A knob group's measured time-to-QR saving (positive: the fast values are faster)."""

    label: str
    # As the impact table calls its rows: a group, the remainder, the total gap.
    kind: RowKind
    # None when a side had no successful session.
    saving_ms: float | None
    ci_low_ms: float | None
    ci_high_ms: float | None
    # The study's guess for the group, when `explain --estimates` gave one.
    estimate_ms: float | None
    # E.g. "significant (p = 0.008)", as the impact table says it.
    verdict: str


@dataclass(frozen=True)
class ExplanationPart:
    """`explain`'s attribution, just computed or read back from its `--json` export."""

    title: str
    explanation: Explanation
    # Phrased already: the export keeps caveats as sentences, not figures.
    caveats: list[str]
    # As RunsPart's.
    stopping: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GatePart:
    """A gate's verdict and its checks as table rows (threshold, measured, result, why)."""

    title: str
    headline: str
    passed: bool
    checks: list[tuple[str, str, str, str, str]]
    caveats: list[str]
    # As RunsPart's.
    stopping: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CapacityPart:
    """A capacity ramp read back from its file: steps, criterion and knee."""

    title: str
    ramp: SavedCapacity


# Every kind of part a report can hold; `page.py` has one section renderer per kind.
ReportPart = RunsPart | ExplanationPart | GatePart | CapacityPart
