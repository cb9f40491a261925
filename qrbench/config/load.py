"""How a run's measured sessions start: the one run setting below every layer, since the
plans that run it, the analysis that judges capacity steps and the reports that name them
all read it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """How the measured sessions start: one at a time (the default), `concurrency` in
    flight (closed loop), or `arrival_rate_per_min` on a Poisson schedule drawn from
    `seed` (open loop). Warmup sessions always run first, one at a time."""

    concurrency: int = 1
    arrival_rate_per_min: float | None = None
    seed: int = 0

    def describe(self) -> str:
        """For a run's title; empty for sessions one at a time."""
        if self.arrival_rate_per_min is not None:
            return f"arriving at {self.arrival_rate_per_min:g}/min (seed {self.seed})"
        return f"{self.concurrency} in flight" if self.concurrency > 1 else ""

    def to_dict(self) -> dict[str, object]:
        """The results file's `plan` keys (results/README.md)."""
        if self.arrival_rate_per_min is not None:
            return {"arrival_rate_per_min": self.arrival_rate_per_min, "seed": self.seed}
        return {"concurrency": self.concurrency}


ONE_AT_A_TIME = Load()
