"""What a reader should know before trusting a run or a comparison: data, not sentences.

A caveat names its kind, the run it concerns and the figures behind it; the report
(`qrbench.report.wording.caveats`) phrases it and the hint that goes with it.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from qrbench.analysis.stats import MetricSummary, is_noisy, too_few_runs


class CaveatKind(StrEnum):
    NOISY = "noisy"
    OUTLIERS = "outliers"
    TOO_FEW_RUNS = "too few runs"
    FIRST_RUN_SLOW = "first run slow"
    MACHINE_BUSY = "machine busy"
    ENVIRONMENTS_DIFFER = "environments differ"
    FEW_SESSIONS_FOR_LEVEL = "few sessions for the level"


@dataclass(frozen=True)
class Caveat:
    """Only the figures of its kind are set; the thresholds are `qrbench.analysis.stats`'."""

    kind: CaveatKind
    # The run (profile label) it concerns; None when it concerns every run alike.
    label: str | None
    # TOO_FEW_RUNS: the successful runs the statistics rest on. FEW_SESSIONS_FOR_LEVEL:
    # the sessions a gate check rests on.
    n: int | None = None
    # FEW_SESSIONS_FOR_LEVEL: the check (its name), its level in percent (a percentile or
    # a success rate) and the sessions that level needs.
    check: str | None = None
    level: float | None = None
    needed: int | None = None
    # NOISY: the coefficient of variation of time-to-QR.
    cv: float | None = None
    # OUTLIERS and FIRST_RUN_SLOW: the sessions concerned, number -> time-to-QR in ms.
    sessions: dict[int, float] = field(default_factory=dict)
    # MACHINE_BUSY: the 1-minute load average and the core count when the run started,
    # and how many runs started that way (several when interleaved runs share one warning).
    load_average: float | None = None
    cores: int | None = None
    runs: int = 1
    # ENVIRONMENTS_DIFFER: the environment key (results/README.md) and its value per run.
    setting: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def stability_caveats(summary: MetricSummary | None, label: str | None) -> list[Caveat]:
    """Too few runs or too much noise in a time-to-QR sample; none without a sample."""
    if summary is None:
        return []
    caveats = []
    if too_few_runs(summary.n):
        caveats.append(Caveat(CaveatKind.TOO_FEW_RUNS, label, n=summary.n))
    if is_noisy(summary):
        caveats.append(Caveat(CaveatKind.NOISY, label, cv=summary.cv))
    return caveats
