"""How many sessions a run takes: a fixed count, or as many as its question needs.

The runner asks its `Sampling` before each round (one session per profile, in turns)
which profiles the round runs; none ends the run. `FixedRuns` answers "all of them" N
times. `ShiftSampling` (compare, explain) and `TargetSampling` (run, gate) look at the
time-to-QR so far through a sequential design (analysis/sequential.py) and stop when
their question is settled, the most runs were taken, or the time budget would be
overrun. Data only: no printing, no sessions, so a benchmark can drive them with draws.
"""

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qrbench.analysis.sequential import (
    FIRST_LOOK_PAIRS,
    AutoStop,
    Question,
    RegressionMonitor,
    RegressionSettled,
    Settled,
    ShiftLook,
    ShiftMonitor,
    StopReason,
    TargetLook,
    TargetMonitor,
    TargetSettled,
    TargetStop,
)
from qrbench.analysis.stats import SIGNIFICANCE_LEVEL
from qrbench.analysis.thresholds import Thresholds
from qrbench.errors import ConfigError
from qrbench.records import SessionResult

# A comparison's first look is at FIRST_LOOK_PAIRS rounds: fewer than two looks leave
# nothing to adapt.
MIN_MAX_RUNS = 2 * FIRST_LOOK_PAIRS


@dataclass(frozen=True)
class Tally:
    """What one profile's measured sessions so far say: how many, and their times to QR."""

    measured: int
    # Of the successful sessions, by session number: a round's sessions share one.
    qr_times: Mapping[int, float]  # ms

    @classmethod
    def of(cls, sessions: Sequence[SessionResult]) -> "Tally":
        measured = [session for session in sessions if not session.warmup]
        return cls(
            measured=len(measured),
            qr_times={
                session.number: session.time_to_qr_ms
                for session in measured
                if session.ok and session.time_to_qr_ms is not None
            },
        )

    def differences(self, reference: "Tally") -> list[float]:
        """This profile's time-to-QR minus the reference's, round by round, over the rounds
        in which both succeeded."""
        return [
            time - reference.qr_times[number]
            for number, time in self.qr_times.items()
            if number in reference.qr_times
        ]


class Sampling(Protocol):
    def next_round(self, tallies: Mapping[str, Tally]) -> list[str]:
        """The labels whose next session runs in the coming round; none ends the run."""
        ...

    def take_notices(self) -> list[str]:
        """What the user should hear now, once (the runner passes it to its listener)."""
        ...


class FixedRuns:
    """Every profile, `runs` rounds: the design `--runs N` asks for."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.rounds = 0

    def next_round(self, tallies: Mapping[str, Tally]) -> list[str]:
        if self.rounds >= self.runs:
            return []
        self.rounds += 1
        return list(tallies)

    def take_notices(self) -> list[str]:
        return []


class Budget:
    """A wall-clock allowance from its creation: a round starts only if the longest round
    so far would still end in time, so a run stops under its budget instead of just over
    it (one failed session can make a round ten times longer). The first round always
    runs: a run that measured nothing would have nothing to report."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._start = clock()
        self._last_asked: float | None = None
        self._longest_round = 0.0

    def allows(self, rounds_done: int) -> bool:
        now = self._clock()
        if self._last_asked is not None:
            self._longest_round = max(self._longest_round, now - self._last_asked)
        self._last_asked = now
        if self.seconds is None or not rounds_done:
            return True
        return now - self._start + self._longest_round <= self.seconds

    def rounds_that_fit(self, rounds_done: int) -> int | None:
        """The rounds the whole budget holds at its longest round so far, as `allows` would
        count them from its last call; None without a budget or a timed round."""
        if self.seconds is None or self._last_asked is None or not self._longest_round:
            return None
        left = self.seconds - (self._last_asked - self._start)
        return rounds_done + max(0, math.floor(left / self._longest_round))

    @property
    def longest_round_s(self) -> float:
        return self._longest_round


def _stop(*, settled: bool, at_max: bool, in_budget: bool) -> StopReason | None:
    """Why a sampling stops before its next round, in that order; None to go on."""
    if settled:
        return StopReason.SETTLED
    if at_max:
        return StopReason.MAX_RUNS
    if not in_budget:
        return StopReason.BUDGET
    return None


@dataclass(frozen=True)
class Contrast:
    """One question a shift design answers: is `sample` slower than `reference`?"""

    sample: str
    reference: str


@dataclass(frozen=True)
class AdaptiveDesign:
    """What `--runs auto` was given: the most runs per profile, the time budget, and the
    difference (ms) under which two profiles count as the same."""

    max_runs: int
    budget_s: float | None = None
    margin_ms: float = 50.0
    # The p95's interval this narrow, as a share of the target, also ends a run.
    precision: float = 0.10
    alpha: float = SIGNIFICANCE_LEVEL

    def __post_init__(self) -> None:
        if self.max_runs < MIN_MAX_RUNS:
            raise ConfigError(
                f"--max-runs {self.max_runs}: --runs auto needs at least {MIN_MAX_RUNS}, "
                "room to look more than once; for fewer, use --runs N"
            )


class ShiftSampling:
    """Rounds until every contrast is settled (slower, faster, or equivalent within the
    margin), at family-wise alpha: each contrast gets alpha / len(contrasts) (Bonferroni).
    Only the profiles of contrasts still open run: sessions go where the doubt is.

    The look before a round that would overrun the budget is the last, and spends the
    alpha left, as the one at `max_runs` does: a budget that ends the rounds early leaves
    no alpha unspent. `rng` draws the sign patterns; seed it to repeat a run exactly."""

    def __init__(
        self,
        contrasts: Sequence[Contrast],
        design: AdaptiveDesign,
        rng: np.random.Generator | None = None,
    ) -> None:
        share = design.alpha / len(contrasts)
        rng = rng if rng is not None else np.random.default_rng()
        self.design = design
        self.monitors = {
            contrast: ShiftMonitor(share, design.max_runs, design.margin_ms, rng)
            for contrast in contrasts
        }
        self.budget = Budget(design.budget_s)
        self.rounds = 0
        self.stopped: StopReason | None = None
        self._notices: list[str] = []

    def next_round(self, tallies: Mapping[str, Tally]) -> list[str]:
        at_max = self.rounds >= self.design.max_runs
        in_budget = self.budget.allows(self.rounds)
        if self.rounds == 1:
            self._warn_if_the_budget_cannot_look()
        for contrast in self.open():
            self.monitors[contrast].look(
                tallies[contrast.sample].differences(tallies[contrast.reference]),
                final=at_max or not in_budget,
            )
        still_open = self.open()
        self.stopped = _stop(settled=not still_open, at_max=at_max, in_budget=in_budget)
        if self.stopped is not None:
            return []
        self.rounds += 1
        wanted = {
            label for contrast in still_open for label in (contrast.sample, contrast.reference)
        }
        return [label for label in tallies if label in wanted]

    def _warn_if_the_budget_cannot_look(self) -> None:
        """After the first round, when its duration says the budget ends before the first
        look: the user may stop now rather than wait for "not settled" at the end."""
        fit = self.budget.rounds_that_fit(self.rounds)
        if fit is not None and fit < FIRST_LOOK_PAIRS:
            self._notices.append(
                f"--budget {self.design.budget_s:g} s holds about {fit} round(s) of "
                f"{self.budget.longest_round_s:.0f} s; a difference is first looked at after "
                f"{FIRST_LOOK_PAIRS}, so none can settle: raise --budget (Ctrl-C keeps the "
                "sessions measured so far)"
            )

    def take_notices(self) -> list[str]:
        notices, self._notices = self._notices, []
        return notices

    def open(self) -> list[Contrast]:
        return [
            contrast
            for contrast, monitor in self.monitors.items()
            if monitor.last is None or monitor.last.settled is Settled.OPEN
        ]

    def looks(self) -> dict[Contrast, ShiftLook | None]:
        """Each contrast's last look: where it stands at the end."""
        return {contrast: monitor.last for contrast, monitor in self.monitors.items()}

    def outcome(self) -> AutoStop:
        """Where every question stands, and why the rounds stopped."""
        return AutoStop(
            rounds=self.rounds,
            stopped=self.stopped,
            max_runs=self.design.max_runs,
            margin_ms=self.design.margin_ms,
            questions=[
                Question(contrast.sample, contrast.reference, look)
                for contrast, look in self.looks().items()
            ],
        )


class TargetSampling:
    """Sessions of one profile until its verdict against the target (at the thresholds'
    percentile) and success threshold is settled, or that percentile is known within
    `precision` of the target. With `baseline_ms` (a baseline's times to QR), until its
    median's regression against that baseline is settled too; a verdict that fails the
    gate (target failed, or regressed) ends the run alone."""

    def __init__(
        self,
        label: str,
        thresholds: Thresholds,
        design: AdaptiveDesign,
        baseline_ms: Sequence[float] | None = None,
    ) -> None:
        self.label = label
        self.design = design
        self.regression = (
            None
            if baseline_ms is None
            else RegressionMonitor(design.alpha, baseline_ms, thresholds.max_regression_percent)
        )
        self.monitor = TargetMonitor(
            design.alpha,
            thresholds.target_ms,
            thresholds.min_success_percent / 100,
            design.precision,
            thresholds.percentile,
        )
        self.budget = Budget(design.budget_s)
        self.rounds = 0
        self.stopped: StopReason | None = None

    def next_round(self, tallies: Mapping[str, Tally]) -> list[str]:
        tally = tallies[self.label]
        self.stopped = _stop(
            settled=tally.measured > 0 and self._settled(list(tally.qr_times.values()), tally),
            at_max=self.rounds >= self.design.max_runs,
            in_budget=self.budget.allows(self.rounds),
        )
        if self.stopped is not None:
            return []
        self.rounds += 1
        return [self.label]

    def _settled(self, qr_times: list[float], tally: Tally) -> bool:
        target = self.monitor.look(qr_times, tally.measured).settled
        if self.regression is None:
            return target is not TargetSettled.OPEN
        regression = self.regression.look(qr_times).settled
        return (
            target is TargetSettled.FAIL
            or regression is RegressionSettled.REGRESSED
            or (target is not TargetSettled.OPEN and regression is not RegressionSettled.OPEN)
        )

    @property
    def last(self) -> TargetLook | None:
        return self.monitor.last

    def take_notices(self) -> list[str]:
        return []

    def outcome(self) -> TargetStop:
        """Where the verdict stands, and why the runs stopped."""
        return TargetStop(
            stopped=self.stopped,
            max_runs=self.design.max_runs,
            target_ms=self.monitor.target_ms,
            min_success=self.monitor.min_success,
            precision=self.monitor.precision,
            look=self.last,
            regression=None if self.regression is None else self.regression.last,
        )
