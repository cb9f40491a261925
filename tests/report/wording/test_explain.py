"""An explanation in words: knob values, stage moves and estimates beside measurements."""

from qrbench.analysis.compare import MetricKind
from qrbench.analysis.explain.attribution import GroupEffect, Saving, StageMove
from qrbench.analysis.explain.knobs import diff_profiles
from qrbench.analysis.stats import Significance
from qrbench.config.estimates import Estimate
from qrbench.config.loader import load_profile
from qrbench.report.wording.explain import describe_estimate, describe_stage_move, describe_values


def test_flag_lists_show_what_each_side_has_that_the_other_lacks() -> None:
    diffs = diff_profiles(load_profile("new"), load_profile("optimized"))
    args = next(diff for diff in diffs if diff.group.id == "chromium_args")
    assert describe_values(args.changes, fast=True) == [
        "args: +--single-process +--disable-extensions"
    ]
    slow = describe_values(args.changes, fast=False)[0]
    assert "--single-process" not in slow and "--disable-accelerated-2d-canvas" in slow


def test_a_stage_move_says_how_much_or_that_it_came_or_went() -> None:
    def move(slow: float | None, fast: float | None, fast_kind: MetricKind | None) -> str:
        slow_kind = None if slow is None else MetricKind.CRITICAL
        return describe_stage_move(StageMove("webhook", slow, fast, slow_kind, fast_kind, None))

    assert move(400.0, 400.0, MetricKind.BACKGROUND) == "webhook 0 ms (critical -> background)"
    assert move(900.0, 400.0, MetricKind.CRITICAL) == "webhook -500 ms"
    assert move(0.4, None, None) == "webhook gone"
    assert move(None, 4.0, MetricKind.BACKGROUND) == "webhook appears"


def _effect(saving: Saving | None, estimate: Estimate | None) -> GroupEffect:
    return GroupEffect(
        "timeouts", "timeouts", [], "new", "new+timeouts", saving, None, [], estimate
    )


def test_an_estimate_reads_beside_its_measurement() -> None:
    measured = Saving(20.0, -40.0, 90.0, 0.61, Significance.NOT_SIGNIFICANT)
    guessed = Estimate(saving_ms=10_000.0, note="90 s -> 15 s")
    assert describe_estimate(_effect(measured, guessed)) == (
        "estimated -10.00 s, measured -20 ms, not significant (p = 0.61)"
    )
    assert describe_estimate(_effect(None, guessed)) == (
        "estimated -10.00 s, not measured (no successful session)"
    )
    assert describe_estimate(_effect(measured, None)) == ""
