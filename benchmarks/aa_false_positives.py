"""How often an A/A comparison calls a difference by chance, uncorrected and with Holm.

Both sides of every comparison are drawn from one distribution (`tests.helpers.synthetic_run`:
10 stages varying independently and log-normally, time-to-QR their critical sum) and go
through the real comparison code (`qrbench.analysis.compare.compare`). Uncorrected counts a
comparison in which any raw p value is below 0.05, as compare and gate judged before Holm;
corrected, one in which any verdict is faster or slower, as they judge now.

    PYTHONPATH=. .venv/bin/python benchmarks/aa_false_positives.py [--comparisons 400]
"""

import argparse

import numpy as np

from qrbench.analysis.compare import MetricComparison, compare
from qrbench.analysis.stats import SIGNIFICANCE_LEVEL, Difference, Significance
from tests.helpers import synthetic_run

CALLED = (Significance.FASTER, Significance.SLOWER)


def _found(metrics: list[MetricComparison], label: str) -> list[Difference]:
    return [found for metric in metrics if (found := metric.differences[label]) is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=400)
    parser.add_argument("--runs", type=int, default=10, help="sessions a side")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    counts = dict.fromkeys(
        ("compare raw", "compare holm", "gate ttq", "gate stages raw", "gate stages holm"), 0
    )
    for _ in range(args.comparisons):
        runs = [synthetic_run(rng, "a", args.runs), synthetic_run(rng, "b", args.runs)]
        every = compare(runs, "a")
        found = _found([every.time_to_qr, *every.stages], "b")
        counts["compare raw"] += any(f.test.p_value < SIGNIFICANCE_LEVEL for f in found)
        counts["compare holm"] += any(f.significance in CALLED for f in found)
        gate = compare(runs, "a", time_to_qr_in_family=False)
        (time_to_qr,) = _found([gate.time_to_qr], "b")
        counts["gate ttq"] += time_to_qr.significance in CALLED
        stages = _found(gate.stages, "b")
        counts["gate stages raw"] += any(f.test.p_value < SIGNIFICANCE_LEVEL for f in stages)
        counts["gate stages holm"] += any(f.significance in CALLED for f in stages)
    n = args.comparisons
    metrics = len(found)

    level = f"{SIGNIFICANCE_LEVEL:g}"
    lines = {
        f"compare, any metric called, each at {level} (before)": "compare raw",
        f"compare, any metric called, Holm across {metrics} (after)": "compare holm",
        f"gate, time-to-QR called, alone at {level}": "gate ttq",
        f"gate, any stage called, each at {level} (before)": "gate stages raw",
        f"gate, any stage called, Holm across {metrics - 1} (after)": "gate stages holm",
    }
    print(f"{n} A/A comparisons, {args.runs} runs a side, {metrics} metrics, seed {args.seed}")
    for text, key in lines.items():
        print(f"{text + ':':<52} {counts[key] / n:6.1%} ({counts[key]}/{n})")


if __name__ == "__main__":
    main()
