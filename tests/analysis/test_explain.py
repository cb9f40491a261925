"""The explain core: knob groups, variants, and the attribution on seeded synthetic runs."""

import json
from pathlib import Path

import numpy as np
import pytest

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.compare import LabelledRun, MetricKind
from qrbench.analysis.explain.attribution import Explanation, explain
from qrbench.analysis.explain.knobs import (
    GROUPS_BY_ID,
    KNOB_GROUPS,
    NOT_A_KNOB,
    GroupDiff,
    KnobChange,
    diff_profiles,
    group_of,
    leaf_keys,
    owners,
    switch_group,
)
from qrbench.analysis.explain.plan import Direction, ExplainPlan, parse_direction, plan_explanation
from qrbench.analysis.stats import Significance
from qrbench.config.estimates import load_estimates
from qrbench.config.loader import load_profile
from qrbench.config.models import Profile, WebhookMode
from qrbench.errors import ConfigError
from qrbench.report.export import json as json_export
from qrbench.report.wording.explain import describe_stage_move
from tests.helpers import (
    draw,
    labelled,
    labelled_document,
    results_document,
    session_record,
    write_yaml,
)


def test_every_profile_key_is_placed_in_exactly_one_group_or_is_not_a_knob() -> None:
    keys = leaf_keys(Profile)
    # The walk reaches nested sections (auth.store) and keeps lists whole (browser.args).
    assert {"auth.store.backend", "browser.args", "webhook.mode", "name"} <= set(keys)
    misplaced = {key: owners(key) for key in keys if len(owners(key)) != 1}
    assert misplaced == {}


def test_the_study_groups_hold_the_keys_the_brief_names() -> None:
    expected = {
        "browser.timeout_ms": "timeouts",
        "browser.protocol_timeout_ms": "timeouts",
        "browser.navigation_timeout_ms": "timeouts",
        "browser.auth_timeout_ms": "timeouts",
        "retry.attempts": "timeouts",
        "qr.max_retries": "qr_options",
        "qr.dedupe": "qr_options",
        "browser.args": "chromium_args",
        "browser.headless": "chromium_args",
        "browser.user_agent": "chromium_args",
        "web_version": "web_version_cache",
        "web_version_cache.type": "web_version_cache",
        "auth.strategy": "auth",
        "auth.store.url": "auth",
        "webhook.mode": "webhook",
        "db.updates": "db_updates",
        "routing.instances": "routing",
        "chat_sync.on_ready": "chat_sync",
        "browser.pool": "chromium_args",
    }
    assert {key: owners(key) for key in expected} == {
        key: [group] for key, group in expected.items()
    }
    for key in ("name", "description", "target.url", "gate.target_s", "auth.data_path"):
        assert owners(key) == [NOT_A_KNOB]
        assert group_of(key) is None
    for key in ("browser.executable_path", "browser.provider", "browser.endpoints"):
        assert owners(key) == [NOT_A_KNOB]


def test_a_key_in_no_group_is_refused_not_ignored() -> None:
    with pytest.raises(LookupError, match=r"browser\.new_thing"):
        group_of("browser.new_thing")


def test_new_and_optimized_differ_in_every_group_and_only_in_knobs() -> None:
    diffs = diff_profiles(load_profile("new"), load_profile("optimized"))
    assert [diff.group for diff in diffs] == list(KNOB_GROUPS)
    changed = {change.key for diff in diffs for change in diff.changes}
    assert "name" not in changed and "description" not in changed
    webhook = next(diff for diff in diffs if diff.group.id == "webhook")
    assert [(c.key, c.slow_value, c.fast_value) for c in webhook.changes] == [
        ("webhook.mode", "blocking", "background")
    ]


def test_switching_a_group_changes_its_keys_and_nothing_else() -> None:
    new, optimized = load_profile("new"), load_profile("optimized")
    diffs = {diff.group.id: diff for diff in diff_profiles(new, optimized)}
    variant = switch_group(new, optimized, diffs["web_version_cache"], "new+web_version_cache")
    assert variant.name == "new+web_version_cache"
    assert variant.web_version_cache == optimized.web_version_cache
    assert variant.model_dump(exclude={"name", "web_version_cache"}) == new.model_dump(
        exclude={"name", "web_version_cache"}
    )
    # The group switches as a whole: remote needs remote_path, which comes along backward.
    back = switch_group(optimized, new, diffs["web_version_cache"], "optimized-web_version_cache")
    assert back.web_version_cache == new.web_version_cache


def test_identical_knobs_are_refused(tmp_path: Path) -> None:
    write_yaml(tmp_path / "twin.yaml", "extends: optimized\ndescription: another name\n")
    twin = load_profile("twin.yaml", cwd=tmp_path)
    with pytest.raises(ConfigError, match="identical in every knob"):
        plan_explanation(load_profile("optimized"), twin, Direction.FORWARD)


def test_an_unknown_direction_is_one_clear_error() -> None:
    assert parse_direction("Backward") is Direction.BACKWARD
    with pytest.raises(ConfigError, match="--direction sideways: must be one of forward"):
        parse_direction("sideways")


def test_forward_backward_and_both_plan_one_run_per_configuration() -> None:
    new, optimized = load_profile("new"), load_profile("optimized")
    forward = plan_explanation(new, optimized, Direction.FORWARD)
    groups = [group.id for group in KNOB_GROUPS]
    assert [c.label for c in forward.configurations] == [
        "new",
        "optimized",
        *(f"new+{group}" for group in groups),
    ]
    assert all(s.slow_side == "new" for s in forward.switches)
    assert forward.session_count(runs=5, warmup=1) == 11 * 6
    both = plan_explanation(new, optimized, Direction.BOTH)
    assert len(both.configurations) == 2 + 2 * len(groups)
    backward = [s for s in both.switches if s.direction is Direction.BACKWARD]
    assert {(s.slow_side, s.fast_side) for s in backward} == {
        (f"optimized-{group}", "optimized") for group in groups
    }
    variant = next(c.profile for c in both.configurations if c.label == "optimized-webhook")
    assert variant.webhook.mode is WebhookMode.BLOCKING
    assert variant.auth == optimized.auth


def test_with_one_group_the_switched_profile_is_the_other_one_and_is_not_run_twice(
    tmp_path: Path,
) -> None:
    write_yaml(tmp_path / "blocking.yaml", "extends: optimized\nwebhook:\n  mode: blocking\n")
    slow = load_profile("blocking.yaml", cwd=tmp_path)
    plan = plan_explanation(slow, load_profile("optimized"), Direction.BOTH)
    assert [c.label for c in plan.configurations] == ["blocking", "optimized"]
    assert {(s.slow_side, s.fast_side) for s in plan.switches} == {("blocking", "optimized")}


# --- the attribution, on synthetic runs ---------------------------------------------------

SLOW_MS, FAST_MS = 9000.0, 1500.0
# Forward: what each group alone saves in SLOW; the rest (2500 ms) only shows together.
SINGLE_SAVINGS = {"auth": 3000.0, "chat_sync": 2000.0}


def _synthetic(plan: ExplainPlan, seed: int, n: int = 10) -> list[LabelledRun]:
    rng = np.random.default_rng(seed)
    medians = {plan.slow: SLOW_MS, plan.fast: FAST_MS}
    for switch in plan.switches:
        if switch.direction is Direction.FORWARD:
            medians[switch.fast_side] = SLOW_MS - SINGLE_SAVINGS.get(switch.diff.group.id, 0.0)
        else:
            medians[switch.slow_side] = FAST_MS + SINGLE_SAVINGS.get(switch.diff.group.id, 0.0)
    return [
        labelled(c.label, list(draw(rng, medians[c.label], n, spread=0.03)))
        for c in plan.configurations
    ]


@pytest.fixture
def new_to_optimized() -> ExplainPlan:
    return plan_explanation(load_profile("new"), load_profile("optimized"), Direction.BOTH)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_single_savings_plus_the_remainder_are_the_total_gap(
    new_to_optimized: ExplainPlan, seed: int
) -> None:
    explanation = explain(new_to_optimized, _synthetic(new_to_optimized, seed), "lan")
    assert explanation.total is not None
    for effects in explanation.directions:
        savings = [effect.saving.value_ms for effect in effects.groups if effect.saving]
        assert len(savings) == len(KNOB_GROUPS)
        assert effects.remainder is not None and effects.sum_of_savings_ms is not None
        assert sum(savings) + effects.remainder.value_ms == pytest.approx(
            explanation.total.value_ms, abs=1e-9
        )
        shares = [effect.share for effect in effects.groups if effect.share is not None]
        assert sum(shares) + (effects.remainder.share or 0.0) == pytest.approx(1.0)


def test_the_groups_that_save_are_found_and_the_others_are_not(
    new_to_optimized: ExplainPlan,
) -> None:
    explanation = explain(new_to_optimized, _synthetic(new_to_optimized, 11), "lan")
    assert explanation.total is not None
    assert explanation.total.value_ms == pytest.approx(SLOW_MS - FAST_MS, rel=0.05)
    assert [effects.direction for effects in explanation.directions] == [
        Direction.FORWARD,
        Direction.BACKWARD,
    ]
    # Groups that change nothing, each tested at p < 0.05: about 1 in 20 is called
    # significant by chance, so one or two of these 14 may be; the real savings never miss.
    false_alarms = []
    for effects in explanation.directions:
        by_group = {effect.group: effect for effect in effects.groups}
        for group, expected in SINGLE_SAVINGS.items():
            found = by_group[group].saving
            assert found is not None
            assert found.significance is Significance.FASTER
            assert found.ci_low_ms < found.value_ms < found.ci_high_ms
            assert found.value_ms == pytest.approx(expected, rel=0.1)
            # Every critical stage scales with time-to-QR in these runs, so each moved.
            assert "page_load" in {move.stage for move in by_group[group].stages}
        for effect in (by_group[g] for g in by_group if g not in SINGLE_SAVINGS):
            assert effect.saving is not None
            if effect.saving.significance is Significance.NOT_SIGNIFICANT:
                assert effect.stages == []
            else:
                false_alarms.append(effect.group)
        assert effects.remainder is not None
        remainder = effects.remainder
        expected_rest = SLOW_MS - FAST_MS - sum(SINGLE_SAVINGS.values())
        assert remainder.ci_low_ms < expected_rest < remainder.ci_high_ms
        assert remainder.ci_low_ms > 0  # an interaction this size is not noise
    assert len(false_alarms) <= 2, false_alarms


def test_a_side_without_a_successful_session_leaves_the_gap_unsplit() -> None:
    slow, fast = load_profile("new"), load_profile("optimized")
    plan = plan_explanation(slow, fast, Direction.FORWARD)
    runs = _synthetic(plan, 21)
    failed = labelled("new+auth", [None] * 5)
    runs = [failed if run.label == "new+auth" else run for run in runs]
    explanation = explain(plan, runs, "lan")
    (effects,) = explanation.directions
    auth = next(effect for effect in effects.groups if effect.group == "auth")
    assert auth.saving is None and auth.share is None
    assert effects.remainder is None and effects.sum_of_savings_ms is None
    assert explanation.total is not None


def test_a_stage_that_goes_or_turns_background_is_a_move() -> None:
    plan = plan_explanation(load_profile("new"), load_profile("optimized"), Direction.FORWARD)
    runs = {run.label: run for run in _synthetic(plan, 31, n=5)}
    # A blocking webhook is a critical stage; in the background it is timed but not waited for.
    blocking = results_document("new", [])
    background = results_document("new+webhook", [])
    for number in range(1, 6):
        slow_session = session_record(number, 2000.0)
        slow_session["stages"].append(
            {
                "name": "webhook",
                "start_ms": 1900.0,
                "duration_ms": 400.0,
                "critical": True,
                "ok": True,
            }
        )
        slow_session["stages"].append(
            {"name": "route", "start_ms": 0.0, "duration_ms": 0.4, "critical": True, "ok": True}
        )
        fast_session = session_record(number, 2000.0)
        fast_session["stages"].append(
            {
                "name": "webhook",
                "start_ms": 1900.0,
                "duration_ms": 400.0,
                "critical": False,
                "ok": True,
            }
        )
        blocking["sessions"].append(slow_session)
        background["sessions"].append(fast_session)
    runs["new"] = labelled_document(blocking, "new", "new.json")
    runs["new+webhook"] = labelled_document(background, "new+webhook", "webhook.json")
    explanation = explain(plan, list(runs.values()), "lan")
    webhook = next(e for e in explanation.directions[0].groups if e.group == "webhook")
    moves = {
        move.stage: (move.slow_median_ms, move.fast_median_ms, move.slow_kind, move.fast_kind)
        for move in webhook.stages
    }
    assert moves == {
        "webhook": (400.0, 400.0, MetricKind.CRITICAL, MetricKind.BACKGROUND),
        "route": (0.4, None, MetricKind.CRITICAL, None),
    }


def _traced(label: str, listener_ms: list[float], goto_ms: list[float]) -> LabelledRun:
    """A traced gateway's run: each session with a `qr listener` and a `Page.goto` span."""
    document = results_document(label, [])
    for number, (listener, goto) in enumerate(zip(listener_ms, goto_ms, strict=True), 1):
        session = session_record(number, 2000.0)
        session["spans"] = [
            {
                "name": name,
                "service": "gateway",
                "span_id": f"{number:08x}{index:08x}",
                "parent_span_id": None,
                "start_ms": 100.0 * index,
                "duration_ms": duration,
                "stage": "page_load",
                "ok": True,
            }
            for index, (name, duration) in enumerate(
                [("Page.goto", goto), ("qr listener", listener)]
            )
        ]
        document["sessions"].append(session)
    return labelled_document(document, label, f"{label}.json")


def test_a_knob_that_moves_one_span_is_attributed_that_span() -> None:
    plan = plan_explanation(load_profile("new"), load_profile("optimized"), Direction.FORWARD)
    runs = {run.label: run for run in _synthetic(plan, 41, n=8)}
    rng = np.random.default_rng(41)
    # The blocking webhook sits in the gateway's qr listener: 170 ms with it, 5 without.
    for label, listener_ms in (("new", 170.0), ("new+webhook", 5.0)):
        listener, goto = draw(rng, listener_ms, 8), draw(rng, 600.0, 8)
        runs[label] = _traced(label, listener, goto)
    explanation = explain(plan, list(runs.values()), "lan")
    webhook = next(e for e in explanation.directions[0].groups if e.group == "webhook")
    spans = {move.stage: move for move in webhook.stages if move.stage.startswith("span: ")}
    # Page.goto, equal on both sides, did not move.
    assert list(spans) == ["span: qr listener"]
    moved = spans["span: qr listener"]
    assert moved.significance is Significance.FASTER
    assert moved.slow_kind is moved.fast_kind is MetricKind.SPAN
    assert moved.slow_median_ms == pytest.approx(170.0, rel=0.1)
    assert moved.fast_median_ms == pytest.approx(5.0, rel=0.1)
    assert describe_stage_move(moved).startswith("span: qr listener -16")


# --- estimates ----------------------------------------------------------------------------


def test_an_estimate_reads_beside_its_measurement(new_to_optimized: ExplainPlan) -> None:
    estimates = load_estimates("seed")
    runs = _synthetic(new_to_optimized, 41)
    explanation: Explanation = explain(new_to_optimized, runs, "lan", estimates)
    for effects in explanation.directions:
        for effect in effects.groups:
            assert effect.estimate == estimates.by_group.get(effect.group)
    assert explanation.estimates_source == estimates.source


def test_a_busy_machine_is_one_warning_for_the_whole_interleaved_run(
    new_to_optimized: ExplainPlan,
) -> None:
    rng = np.random.default_rng(51)
    busy = {"load_average": [5.0, 4.0, 3.0], "cpu_cores": 2}
    runs = [
        labelled(c.label, list(draw(rng, 2000.0, 6)), environment=busy)
        for c in new_to_optimized.configurations
    ]
    caveats = explain(new_to_optimized, runs, "lan").caveats
    assert [caveat for caveat in caveats if caveat.kind is CaveatKind.MACHINE_BUSY] == [
        Caveat(CaveatKind.MACHINE_BUSY, None, load_average=5.0, cores=2, runs=len(runs))
    ]


def test_a_variant_that_breaks_validation_is_a_config_error() -> None:
    new, optimized = load_profile("new"), load_profile("optimized")
    # Half a group: a remote cache without its remote_path, which validation refuses.
    half = GroupDiff(
        GROUPS_BY_ID["web_version_cache"],
        [KnobChange("web_version_cache.type", "local", "remote")],
    )
    with pytest.raises(ConfigError, match="optimized-half: switching web-version cache alone"):
        switch_group(optimized, new, half, "optimized-half")


def test_the_json_export_holds_the_identity_and_the_raw_sources(
    new_to_optimized: ExplainPlan,
) -> None:
    explanation = explain(new_to_optimized, _synthetic(new_to_optimized, 61), "lan")
    document = json.loads(json_export.render_explanation(explanation))["explanation"]
    assert document["slow"] == "new" and document["fast"] == "optimized"
    for effects in document["directions"]:
        savings = sum(effect["saving"]["value_ms"] for effect in effects["groups"])
        assert savings == pytest.approx(effects["sum_of_savings_ms"])
        total = savings + effects["remainder"]["value_ms"]
        assert total == pytest.approx(document["total"]["value_ms"], abs=1e-9)
    assert set(document["sources"]) == {c.label for c in new_to_optimized.configurations}
