"""Summaries of timing samples: the numbers every table and comparison is built from."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
# A fixed seed makes the same samples give the same interval in every report.
BOOTSTRAP_SEED = 20251121
NOISY_CV = 0.10
FEW_RUNS = 5


@dataclass(frozen=True)
class MetricSummary:
    n: int
    mean: float
    sd: float
    min: float
    median: float
    p95: float
    max: float
    median_ci_low: float
    median_ci_high: float

    @property
    def cv(self) -> float:
        return self.sd / self.mean if self.mean else 0.0


def summarize(values: Sequence[float]) -> MetricSummary | None:
    if not values:
        return None
    sample = np.asarray(values, dtype=float)
    ci_low, ci_high = median_ci(sample)
    return MetricSummary(
        n=len(sample),
        mean=float(sample.mean()),
        sd=float(sample.std(ddof=1)) if len(sample) > 1 else 0.0,
        min=float(sample.min()),
        median=float(np.median(sample)),
        p95=float(np.percentile(sample, 95)),
        max=float(sample.max()),
        median_ci_low=ci_low,
        median_ci_high=ci_high,
    )


def median_ci(sample: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the median."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    resamples = rng.choice(sample, size=(BOOTSTRAP_RESAMPLES, len(sample)), replace=True)
    medians = np.median(resamples, axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    return float(low), float(high)


def stability_warnings(label: str, summary: MetricSummary | None) -> list[str]:
    """What a reader should know before trusting `summary`."""
    if summary is None:
        return []
    warnings = []
    if summary.n < FEW_RUNS:
        warnings.append(
            f"only {summary.n} measured run(s) of {label}: use --runs {FEW_RUNS} or more "
            "before drawing conclusions"
        )
    if summary.n > 1 and summary.cv > NOISY_CV:
        warnings.append(
            f"{label} is noisy (CV {summary.cv:.0%} > {NOISY_CV:.0%}): close other programs "
            "or add runs"
        )
    return warnings
