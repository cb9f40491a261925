"""What `--runs auto` buys and what it keeps: A/A false positives and power at 100 ms.

Every comparison goes through the real sampling code (`qrbench.measure.sampling.
ShiftSampling`, the design `compare --runs auto` runs) on seeded draws instead of
sessions: time-to-QR log-normal around `--median-ms`, with `--spread-ms` the standard
deviation measured on `typical` (gateway-new, 20 runs a side: sd 149 ms, MAD 129 ms; the
model engine's 30-70 ms is kinder). The two sides are drawn independently: the pairing by
round that helps on a real machine (shared jitter and drift) helps nothing here, so the
adaptive design gets no advantage the fixed one lacks. Two tables:

1. A/A, both sides from one distribution: how often the adaptive design calls a
   difference (it must stay at or under alpha), beside peeking at the fixed design's
   Mann-Whitney test after every round, which does not.
2. A true difference of `--shift-ms`: the adaptive design's power and the sessions it
   used, beside the fixed designs that reach 80 % and the adaptive design's own power
   (the smallest n a side whose Mann-Whitney test at 0.05 calls the difference that
   often, found by simulation).

    PYTHONPATH=. .venv/bin/python benchmarks/sequential_design.py [--comparisons 2000]
"""

import argparse
import math
from collections.abc import Callable

import numpy as np

from qrbench.analysis.sequential import Settled
from qrbench.analysis.stats import FEW_RUNS, SIGNIFICANCE_LEVEL, mann_whitney
from qrbench.measure.sampling import AdaptiveDesign, Contrast, ShiftSampling, Tally

CONTRAST = Contrast("b", "a")
CALLED = (Settled.SLOWER, Settled.FASTER)
TARGET_POWER = 0.80

Draw = Callable[[int], np.ndarray]


def _log_normal(rng: np.random.Generator, median_ms: float, spread_ms: float) -> Draw:
    # The log-normal whose median and standard deviation are the ones given.
    sigma = math.sqrt(math.log((1 + math.sqrt(1 + 4 * (spread_ms / median_ms) ** 2)) / 2))
    return lambda n: median_ms * np.exp(sigma * rng.standard_normal(n))


def _adaptive(
    draw: Draw, shift_ms: float, design: AdaptiveDesign, rng: np.random.Generator
) -> tuple[Settled, int, bool]:
    """One comparison to its stop: the verdict, the runs a side, and whether a fixed-design
    test looked at after every round would have called it somewhere on the way."""
    a, b = draw(design.max_runs), draw(design.max_runs) + shift_ms
    sampling = ShiftSampling([CONTRAST], design, rng)
    taken = 0
    peeked = False
    while sampling.next_round({"a": _tally(a, taken), "b": _tally(b, taken)}):
        taken += 1
        if taken >= FEW_RUNS:
            peeked |= mann_whitney(b[:taken], a[:taken]).p_value < SIGNIFICANCE_LEVEL
    look = sampling.looks()[CONTRAST]
    return (Settled.OPEN if look is None else look.settled), taken, peeked


def _tally(draws: np.ndarray, taken: int) -> Tally:
    """The first `taken` draws as a profile's sessions, one per round."""
    return Tally(taken, {number: float(draws[number - 1]) for number in range(1, taken + 1)})


def _fixed_power(draw: Draw, shift_ms: float, runs: int, comparisons: int) -> float:
    called = 0
    for _ in range(comparisons):
        called += mann_whitney(draw(runs) + shift_ms, draw(runs)).p_value < SIGNIFICANCE_LEVEL
    return called / comparisons


def _fixed_runs_for_power(
    draw: Draw, shift_ms: float, power: float, comparisons: int
) -> tuple[int, float]:
    """The smallest runs a side whose fixed design reaches `power` (bisection)."""
    low, high = FEW_RUNS, 400
    while low < high:
        middle = (low + high) // 2
        if _fixed_power(draw, shift_ms, middle, comparisons) >= power:
            high = middle
        else:
            low = middle + 1
    return low, _fixed_power(draw, shift_ms, low, comparisons)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=2000)
    parser.add_argument("--median-ms", type=float, default=1600.0)
    parser.add_argument("--spread-ms", type=float, default=130.0)
    parser.add_argument("--shift-ms", type=float, default=100.0)
    parser.add_argument("--max-runs", type=int, default=60)
    parser.add_argument("--margin-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    draw = _log_normal(rng, args.median_ms, args.spread_ms)
    design = AdaptiveDesign(max_runs=args.max_runs, margin_ms=args.margin_ms)
    n = args.comparisons

    aa = [_adaptive(draw, 0.0, design, rng) for _ in range(n)]
    called = sum(verdict in CALLED for verdict, _, _ in aa)
    equivalent = sum(verdict is Settled.EQUIVALENT for verdict, _, _ in aa)
    peeked = sum(peek for _, _, peek in aa)
    print(
        f"A/A: {n} comparisons, {args.median_ms:g} ms median, sd {args.spread_ms:g} ms, "
        f"alpha {SIGNIFICANCE_LEVEL}, at most {args.max_runs} runs a side"
    )
    print(
        "| design | called a difference | 95 % CI | equivalent within margin | mean runs a side |"
    )
    print("|---|---|---|---|---|")
    runs = np.mean([taken for _, taken, _ in aa])
    print(
        f"| --runs auto (sign-flip, Pocock-type spending, every round) | {called / n:.1%} | "
        f"{_interval(called, n)} | {equivalent / n:.1%} (±{args.margin_ms:g} ms) | {runs:.1f} |"
    )
    print(
        f"| fixed Mann-Whitney, looked at every round | {peeked / n:.1%} | "
        f"{_interval(peeked, n)} | - | same rounds |"
    )

    shifted = [_adaptive(draw, args.shift_ms, design, rng) for _ in range(n)]
    power = sum(verdict is Settled.SLOWER for verdict, _, _ in shifted) / n
    used = np.array([taken for _, taken, _ in shifted])
    fixed = [
        (label, *_fixed_runs_for_power(draw, args.shift_ms, target, max(500, n // 2)))
        for label, target in (
            (f"{TARGET_POWER:.0%} power", TARGET_POWER),
            ("the same power as auto", power),
        )
    ]
    print()
    print(f"True difference +{args.shift_ms:g} ms: {n} comparisons")
    print("| design | power | runs a side: mean | median | p90 | max |")
    print("|---|---|---|---|---|---|")
    print(
        f"| --runs auto | {power:.1%} | {used.mean():.1f} | {np.median(used):g} | "
        f"{np.percentile(used, 90):g} | {used.max()} |"
    )
    for label, fixed_runs, fixed_power in fixed:
        print(
            f"| fixed, smallest n for {label} | {fixed_power:.1%} | {fixed_runs} | "
            f"{fixed_runs} | {fixed_runs} | {fixed_runs} |"
        )
    print(f"runs a side, auto / fixed at the same power: {used.mean() / fixed[-1][1]:.2f}")


def _interval(count: int, n: int) -> str:
    """Wilson's 95 % interval of a rate."""
    z = 1.959964
    centre = (count + z * z / 2) / (n + z * z)
    half = z * math.sqrt(count * (n - count) / n + z * z / 4) / (n + z * z)
    return f"{max(0.0, centre - half):.1%}-{min(1.0, centre + half):.1%}"


if __name__ == "__main__":
    main()
