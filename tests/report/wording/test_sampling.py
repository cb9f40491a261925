import re

import numpy as np

from qrbench.analysis.thresholds import Thresholds
from qrbench.measure.sampling import AdaptiveDesign, Contrast, ShiftSampling, Tally, TargetSampling
from qrbench.report.wording.sampling import shift_lines, target_line

THRESHOLDS = Thresholds(
    target_ms=1000, percentile=95, min_success_percent=98, max_regression_percent=10
)


def _run(sampling: ShiftSampling | TargetSampling, draws: dict[str, np.ndarray]) -> None:
    taken = dict.fromkeys(draws, 0)
    while labels := sampling.next_round(
        {
            label: Tally(
                taken[label], {n: float(draws[label][n - 1]) for n in range(1, taken[label] + 1)}
            )
            for label in draws
        }
    ):
        for label in labels:
            taken[label] += 1


def test_each_ending_of_a_comparison_reads_as_the_docs_say() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(1000, 20, 60)
    draws = {
        "a": base,
        "slow": base + 500 + rng.normal(0, 20, 60),
        "same": base + rng.normal(0, 5, 60),
    }
    sampling = ShiftSampling(
        [Contrast("slow", "a"), Contrast("same", "a")], AdaptiveDesign(max_runs=40, margin_ms=30)
    )
    _run(sampling, draws)
    slow, same = shift_lines(sampling.outcome())
    assert slow.startswith("slow vs a: settled: slower, p = ")
    assert re.search(
        r"\(this look's bound 0\.\d+\): \+\d+ ms \[\+\d+, \+\d+\] over \d+ rounds$", slow
    )
    assert same.startswith("same vs a: equivalent within 30 ms: ")


def test_an_open_question_says_why_the_run_ended() -> None:
    rng = np.random.default_rng(2)
    draws = {"a": rng.normal(1000, 300, 30), "b": rng.normal(1000, 300, 30)}
    at_max = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=30, margin_ms=1))
    _run(at_max, draws)
    assert shift_lines(at_max.outcome())[0].startswith(
        "b vs a: max runs reached (30): not settled: "
    )
    budget = ShiftSampling([Contrast("b", "a")], AdaptiveDesign(max_runs=30, budget_s=0))
    _run(budget, draws)
    assert shift_lines(budget.outcome()) == [
        "b vs a: budget spent: not settled (no look: fewer than 10 rounds in which both succeeded)"
    ]


def test_a_target_line_gives_the_percentile_its_interval_and_the_success_rate() -> None:
    failing = TargetSampling("p", THRESHOLDS, AdaptiveDesign(max_runs=50))
    _run(failing, {"p": np.full(50, 3000.0)})
    line = target_line(failing.outcome())
    assert line.startswith("settled: FAIL: p95 3,000 ms [3,000, -] against 1,000 ms, success ")
    assert line.endswith(f"against 98%, after {failing.rounds} runs")
