"""The comparison at 80 columns: one line per row, marks and caveats said once below."""

import numpy as np
import pytest

from qrbench.analysis.compare import compare
from qrbench.report.console.compare import comparison_report
from qrbench.report.wording.compare import TOO_FEW_RUNS
from tests.helpers import AA_STAGE_MEDIANS, rendered, synthetic_run, table_lines

WIDTH = 80


def _fits(lines: list[str], names: list[str]) -> None:
    assert max(map(len, lines)) <= WIDTH
    rows = table_lines(lines)
    for name in [*names, "time-to-QR", "success rate"]:
        # A wrapped row would put a second line under the name, or split the name itself.
        assert sum(f" {name}" in row for row in rows) == 1, (name, rows)
    assert len(rows) == len(names) + 2


@pytest.mark.parametrize("runs", [2, 10])
def test_three_profiles_fit_80_columns_with_the_caveat_said_once(runs: int) -> None:
    rng = np.random.default_rng(runs)
    slow = {name: 12 * median for name, median in AA_STAGE_MEDIANS.items()}
    comparison = compare(
        [
            synthetic_run(rng, "old", runs, slow),
            # The webhook is critical in one profile and background in the others.
            synthetic_run(rng, "new", runs, background=("qr_verify", "chat_sync", "webhook")),
            synthetic_run(rng, "optimized", runs),
        ],
        "old",
    )
    lines = rendered(comparison_report(comparison))
    _fits(lines, list(AA_STAGE_MEDIANS))
    text = " ".join("\n".join(lines).split())  # footnotes wrap at 80 columns
    rows = "\n".join(table_lines(lines))
    assert " chat_sync (bg) " in rows and " webhook * " in rows
    assert "webhook *: critical (old, optimized); background (new)" in text
    assert " / " not in rows  # medians only, with three profiles
    if runs == 2:
        # Said once under the table (the headlines below are a sentence per profile).
        assert text.split("new: time-to-QR")[0].count(TOO_FEW_RUNS) == 1
        assert "faster" not in rows and "slower" not in rows
        assert "ratio 0.08x" in rows
        assert "Holm" not in text
    else:
        # The reference 12x as slow: every metric of both others called faster.
        assert rows.count("x faster") == 2 * 11
        assert TOO_FEW_RUNS not in text
        assert "significance: Holm-adjusted across 11 metrics vs old, family alpha 0.05" in text


def test_two_profiles_show_p95_and_the_p_that_decided() -> None:
    rng = np.random.default_rng(3)
    slow = {**AA_STAGE_MEDIANS, "page_load": 2 * AA_STAGE_MEDIANS["page_load"]}
    comparison = compare(
        [synthetic_run(rng, "old", 10), synthetic_run(rng, "new", 10, slow)], "old"
    )
    lines = rendered(comparison_report(comparison))
    _fits(lines, list(AA_STAGE_MEDIANS))
    (page_load,) = [row for row in table_lines(lines) if " page_load " in row]
    found = next(s for s in comparison.stages if s.name == "page_load").differences["new"]
    assert found is not None and found.ratio is not None
    assert f"{found.ratio.value:.2f}x slower" in page_load
    assert page_load.rstrip().endswith(f"{found.adjusted_p_value:.2g}")
    (qr_wait,) = [row for row in table_lines(lines) if " qr_wait " in row]
    assert " n.s. " in qr_wait and "faster" not in qr_wait and "slower" not in qr_wait
    (success,) = [row for row in table_lines(lines) if " success rate " in row]
    assert "10/10 (100%)" in success and "F 1" in success


def test_equal_medians_have_no_direction() -> None:
    rng = np.random.default_rng(4)
    run = synthetic_run(rng, "a", 3)
    comparison = compare(
        [run, synthetic_run(rng, "b", 3), type(run)("c", "c.json", run.sessions, {})], "a"
    )
    rows = table_lines(rendered(comparison_report(comparison)))
    (time_to_qr,) = [row for row in rows if " time-to-QR " in row]
    assert time_to_qr.rstrip().endswith("same median")


def test_a_family_that_cannot_reach_significance_says_how_many_runs_it_needs() -> None:
    rng = np.random.default_rng(5)
    slow = {name: 3 * median for name, median in AA_STAGE_MEDIANS.items()}
    comparison = compare([synthetic_run(rng, "old", 5), synthetic_run(rng, "new", 5, slow)], "old")
    text = "\n".join(rendered(comparison_report(comparison)))
    assert (
        "new: at 5 and 5 runs no p falls below 0.0079, too large for 11 tests: nothing can "
        "be called significant; use --runs 6 or more"
    ) in " ".join(text.split())
    assert "slower" not in "\n".join(table_lines(text.splitlines()))
