"""The charts' marks: one per session, stage, step or group, as the data says."""

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from qrbench.report.html.attribution import attribution, attribution_bars
from qrbench.report.html.distributions import ecdf, stage_names, stage_strip
from qrbench.report.html.model import RunData
from qrbench.report.html.waterfall import waterfall
from qrbench.report.wording.explain import RowKind
from qrbench.results import SavedResults
from tests.helpers import results_document, synthetic_explanation


def run_of(
    label: str, times: list[float | None], target_ms: float = 10_000.0, **kwargs: Any
) -> RunData:
    document = results_document(label, times, **kwargs)
    return RunData(label, SavedResults.from_dict(document, Path(f"{label}.json")), target_ms)


def marks(svg: str, css_class: str) -> list[ET.Element]:
    """The elements of `svg` (which must be well-formed XML) carrying `css_class`."""
    root = ET.fromstring(svg)
    return [node for node in root.iter() if css_class in node.get("class", "").split()]


def test_a_waterfall_has_a_row_per_measured_session_and_a_bar_per_stage() -> None:
    run = run_of("optimized", [2000.0, 2100.0, None], warmup_ms=5000.0)

    svg = waterfall(run)

    rows = marks(svg, "waterfall-row")
    assert [row.get("data-session") for row in rows] == ["2", "3", "4"]  # no warmup
    # session_record: four critical stages and qr_verify in the background, per session.
    assert len(marks(svg, "stage-bar")) == 15
    assert len(marks(svg, "critical")) == 12 and len(marks(svg, "background")) == 3
    assert len(marks(svg, "ttq-mark")) == 2
    assert len(marks(svg, "target-line")) == 1


def test_a_waterfall_spans_its_sessions_and_says_where_a_later_target_is() -> None:
    run = run_of("optimized", [900.0, 1000.0])

    svg = waterfall(run)

    assert marks(svg, "target-line") == []
    (note,) = marks(svg, "target-note")
    assert note.text == "target 10.0 s: beyond this axis"
    # The axis ends on the first tick past the longest session (1000 ms + 120 ms qr_verify),
    # in steps of 500 ms: not at the 10 s target.
    assert [tick.text for tick in marks(svg, "tick")] == ["0 ms", "500 ms", "1 s", "1.5 s"]


def test_a_failed_session_is_marked_with_its_stage_and_error() -> None:
    run = run_of("optimized", [2000.0, None])

    svg = waterfall(run)

    (failed,) = [row for row in marks(svg, "waterfall-row") if "failed" in row.get("class", "")]
    assert failed.get("data-session") == "2"
    assert "#2 failed in qr_wait" in "".join(failed.itertext())
    (cross,) = marks(svg, "failure-mark")
    assert "QrTimeout: no QR within 30000 ms" in "".join(cross.itertext())
    # Its stages, which did not complete, are outlined as failed.
    assert len([bar for bar in marks(svg, "stage-bar") if "failed" in bar.get("class", "")]) == 5


def test_a_strip_has_a_dot_per_successful_session_and_a_median_per_run() -> None:
    runs = [run_of("old", [3000.0, 3100.0, 2900.0]), run_of("new", [1000.0, None, 1100.0])]

    assert stage_names(runs) == [
        "auth_restore",
        "browser_launch",
        "page_load",
        "qr_wait",
        "qr_verify",
    ]
    svg = stage_strip("page_load", runs)

    assert len(marks(svg, "strip-dot")) == 5
    assert len(marks(svg, "strip-median")) == 2
    assert len(marks(svg, "strip-box")) == 2


def test_a_stage_a_run_never_went_through_is_said_so() -> None:
    runs = [run_of("old", [3000.0]), run_of("new", [None])]

    svg = stage_strip("page_load", runs)

    assert len(marks(svg, "strip-dot")) == 1
    assert "no successful session ran this stage" in "".join(ET.fromstring(svg).itertext())


def test_the_ecdf_steps_once_per_successful_session_and_marks_p95_and_the_target() -> None:
    runs = [run_of("old", [3000.0, 3100.0, 2900.0, None]), run_of("new", [1000.0, 1100.0])]

    svg = ecdf(runs)

    steps = marks(svg, "ecdf-step")
    assert len(steps) == 5
    # A failed session never arrives: old's curve ends at 3 of 4.
    old_last = [s for s in steps if "old:" in "".join(s.itertext())][-1]
    assert "3 of 4 sessions within 3,100 ms" in "".join(old_last.itertext())
    assert [m.get("data-run") for m in marks(svg, "p95-marker")] == ["old", "new"]
    assert len(marks(svg, "target-line")) == 1


def test_runs_with_different_targets_get_a_line_each() -> None:
    runs = [run_of("old", [3000.0], target_ms=10_000.0), run_of("new", [1000.0], target_ms=5000.0)]

    assert len(marks(ecdf(runs), "target-line")) == 2


def test_the_attribution_has_a_bar_per_group_then_the_remainder_and_the_total() -> None:
    explanation = synthetic_explanation(7)

    for effects in explanation.directions:
        bars = attribution_bars(explanation, effects)
        svg = attribution(bars, "forward")

        groups = len(effects.groups)
        assert [bar.kind for bar in bars] == [RowKind.GROUP] * groups + [
            RowKind.REMAINDER,
            RowKind.TOTAL,
        ]
        assert len(marks(svg, "attribution-bar")) == groups + 2
        assert len(marks(svg, "attribution-ci")) == groups + 2
        with_estimate = [effect for effect in effects.groups if effect.estimate is not None]
        assert with_estimate  # the seed estimates guess most groups
        assert len(marks(svg, "estimate-mark")) == len(with_estimate)


def test_text_from_a_hostile_file_stays_text_in_every_chart() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    document = results_document(hostile, [2000.0, None])
    document["sessions"][1]["error"].update(type=hostile, message=hostile)
    document["sessions"][0]["stages"][0]["name"] = hostile
    run = RunData(hostile, SavedResults.from_dict(document, Path("h.json")), 10_000.0)

    for svg in (waterfall(run), ecdf([run]), stage_strip(hostile, [run])):
        root = ET.fromstring(svg)  # still well-formed: nothing broke out of its element
        assert not [node for node in root.iter() if node.tag.endswith(("script", "img"))]
        assert "<script" not in svg and "&lt;script&gt;" in svg


def test_a_traced_gateways_spans_are_bars_under_their_sessions_stages_by_depth() -> None:
    document = results_document("gateway", [1500.0, 1600.0])
    spans = [
        {"name": "POST", "span_id": "a" * 16, "parent_span_id": None, "start_ms": 1.0},
        {"name": "Client.initialize", "span_id": "b" * 16, "parent_span_id": "a" * 16},
        {"name": "puppeteer.launch", "span_id": "c" * 16, "parent_span_id": "b" * 16},
    ]
    for span in spans:
        span.update(service="gateway", duration_ms=400.0, stage="request", ok=True)
        span.setdefault("start_ms", 10.0)
    document["sessions"][0]["spans"] = spans
    run = RunData("gateway", SavedResults.from_dict(document, Path("gateway.json")), 10_000.0)

    svg = waterfall(run)

    bars = marks(svg, "span-bar")
    assert [(bar.get("data-span"), bar.get("data-depth")) for bar in bars] == [
        ("POST", "0"),
        ("Client.initialize", "1"),
        ("puppeteer.launch", "2"),
    ]
    depth_y = [float(bar.get("y", 0)) for bar in bars]
    assert depth_y == sorted(depth_y) and len(set(depth_y)) == 3
    # The traced session's row grew by a line per depth; the legend says what they are.
    labels = [float(label.get("y", 0)) for label in marks(svg, "row-label")]
    assert labels[1] - labels[0] == 26 + 3 * 4
    assert "the gateway's spans" in (marks(svg, "lane-note")[0].text or "")
