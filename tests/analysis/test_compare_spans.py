"""`compare` of traced gateways: a span met in every successful session of both sides is
compared as a stage is (median ratio, Mann-Whitney U, Holm), marked as the gateway's."""

import json
from pathlib import Path

from qrbench.analysis.compare import SPAN_PREFIX, MetricKind, compare, load_runs
from tests.engines.gateway.scripted import ScriptedGateway, run_profile
from tests.engines.gateway.test_tracing import _TRACED, _exporting
from tests.helpers import qrbench
from tests.run_helpers import RESULTS


def _traced_run(tmp_path: Path, name: str, insert_ms: int) -> Path:
    holder: list[ScriptedGateway] = []
    answer = _exporting(holder, insert_ms=insert_ms)
    with ScriptedGateway({("POST", "start"): [answer]}) as gateway:
        holder.append(gateway)
        workdir = tmp_path / name
        workdir.mkdir()
        run_profile(workdir, _TRACED.format(url=gateway.url, wait_ms=2000), runs=6)
    return workdir / RESULTS


def test_a_span_slower_on_one_side_is_a_significant_row_of_its_own(tmp_path: Path) -> None:
    fast, slow = _traced_run(tmp_path, "fast", 5), _traced_run(tmp_path, "slow", 30)
    # Both runs' profiles are named gw: compare tells them apart as gw and gw#2.
    comparison = compare(load_runs([fast, slow]), reference="gw")
    spans = {
        metric.name: metric
        for metric in comparison.stages
        if MetricKind.SPAN in metric.kinds.values()
    }
    assert set(spans) == {SPAN_PREFIX + "POST /start/:id", SPAN_PREFIX + "db.insert"}
    insert = spans[SPAN_PREFIX + "db.insert"]
    difference = insert.differences["gw#2"]
    # Judged in a family of their own: the stages' and time-to-QR's stays as it was.
    assert sorted(comparison.span_families["gw#2"]) == sorted(spans)
    assert not set(spans) & set(comparison.families["gw#2"])
    assert difference.significance.value == "slower"
    assert difference is not None
    assert 5 < difference.ratio.value < 7

    done = qrbench("compare", str(fast), str(slow), "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    shown = json.dumps(document)
    assert "span: db.insert" in shown
    table = qrbench("compare", str(fast), str(slow), cwd=tmp_path).stdout
    said = " ".join(table.split())
    assert "↳ db.insert" in table and "a span the gateway exported" in said
    assert "spans: Holm-adjusted across 2 span(s) vs gw, a family of their own" in said
