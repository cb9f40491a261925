"""Why a `--runs auto` run stopped, in the words the README and docs/statistics.md use."""

import math
from typing import assert_never

from qrbench.analysis.sequential import (
    FIRST_LOOK_PAIRS,
    AutoStop,
    RegressionLook,
    Settled,
    ShiftLook,
    StopReason,
    TargetSettled,
    TargetStop,
)


def auto_heading(stop: AutoStop) -> str:
    return f"--runs auto, {stop.rounds} rounds:"


def stop_phrases(stop: AutoStop | None) -> list[str]:
    """The heading, then a line per question; none for --runs N."""
    return [] if stop is None else [auto_heading(stop), *shift_lines(stop)]


def shift_lines(stop: AutoStop) -> list[str]:
    """One line per question: `new vs old: settled: slower, p = ...`."""
    reason = _unsettled_reason(stop.stopped, stop.max_runs)
    return [
        f"{question.sample} vs {question.reference}: "
        + _shift(question.look, stop.margin_ms, reason)
        for question in stop.questions
    ]


def _shift(look: ShiftLook | None, margin_ms: float, reason: str) -> str:
    if look is None:
        return (
            f"{reason}: not settled (no look: fewer than {FIRST_LOOK_PAIRS} rounds in which "
            "both succeeded)"
        )
    # No sign pattern could cross this look's boundary yet (too few pairs for the alpha
    # it had): the interval has no bounds to show.
    bounded = math.isfinite(look.ci_low) and math.isfinite(look.ci_high)
    interval = f"[{_ms(look.ci_low)}, {_ms(look.ci_high)}]" if bounded else "[no bound yet]"
    measured = f"{_ms(look.shift_ms)} ms {interval} over {look.pairs} rounds"
    match look.settled:
        case Settled.SLOWER | Settled.FASTER:
            return (
                f"settled: {look.settled}, p = {look.p_value:.2g} (this look's bound "
                f"{look.boundary_p_value:.2g}): {measured}"
            )
        case Settled.EQUIVALENT:
            return f"equivalent within {margin_ms:g} ms: {measured}"
        case Settled.OPEN:
            return f"{reason}: not settled: {measured}"
        case _:
            assert_never(look.settled)


def _ms(value: float) -> str:
    """Signed whole ms; a -0.4 is "+0", not "-0"."""
    return f"{round(value) + 0:+,d}"


def target_line(stop: TargetStop) -> str:
    """`settled: PASS ...`, or what is known when it did not settle; then, with a baseline,
    where the median's regression stands."""
    line = _target(stop)
    if stop.regression is not None:
        line += f"; {_regression(stop.regression)}"
    return line


def _regression(look: RegressionLook) -> str:
    """`median 1,400 ms [1,350, 1,460] against the baseline's 1,180 ms + 10% ...`."""
    return (
        f"median {_bound(look.median_ms)} ms [{_bound(look.median_low)}, "
        f"{_bound(look.median_high)}] against the baseline's {_bound(look.baseline_median_ms)} "
        f"ms + {look.max_regression_percent:g}% ([{_bound(look.limit_low)}, "
        f"{_bound(look.limit_high)}]): {look.settled}"
    )


def _bound(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _target(stop: TargetStop) -> str:
    look = stop.look
    reason = _unsettled_reason(stop.stopped, stop.max_runs)
    if look is None:
        return f"{reason}: not settled (no session measured)"

    name = f"p{look.percentile:g}"
    known = (
        f"{name} {_bound(look.value_ms)} ms [{_bound(look.value_low)}, "
        f"{_bound(look.value_high)}] against {stop.target_ms:,.0f} ms, success "
        f"{look.succeeded}/{look.measured} [{look.success_low:.1%}, {look.success_high:.1%}] "
        f"against {stop.min_success:.0%}, after {look.measured} runs"
    )
    match look.settled:
        case TargetSettled.PASS | TargetSettled.FAIL:
            return f"settled: {look.settled.upper()}: {known}"
        case TargetSettled.PRECISE:
            return f"{name} known within {stop.precision:.0%} of the target: {known}"
        case TargetSettled.OPEN if stop.stopped is StopReason.SETTLED:
            return f"not settled (the regression ended the run): {known}"
        case TargetSettled.OPEN:
            return f"{reason}: not settled: {known}"
        case _:
            assert_never(look.settled)


def target_phrases(stop: TargetStop | None) -> list[str]:
    """As `stop_phrases`, for a run judged against its target: a heading and its line."""
    return [] if stop is None else ["--runs auto:", target_line(stop)]


def _unsettled_reason(stopped: StopReason | None, max_runs: int) -> str:
    match stopped:
        case StopReason.MAX_RUNS:
            return f"max runs reached ({max_runs})"
        case StopReason.BUDGET:
            return "budget spent"
        case StopReason.SETTLED:
            return str(stopped)
        case None:
            return "interrupted"
        case _:
            assert_never(stopped)
