"""The explain table on an 80-column terminal: nothing cut, the differing values whole."""

from qrbench.report.console.explain import explanation_report
from tests.helpers import rendered, synthetic_explanation


def test_the_impact_table_fits_80_columns_and_cuts_nothing() -> None:
    lines = rendered(explanation_report(synthetic_explanation(1)), width=80)

    assert max(len(line) for line in lines) <= 80
    assert not any("…" in line for line in lines)


def test_each_knobs_values_read_as_slow_to_fast_under_its_name() -> None:
    lines = [line.strip(" │") for line in rendered(explanation_report(synthetic_explanation(1)))]
    knob_column = [line.split("│")[0].strip() for line in lines]

    auth = knob_column.index("auth")
    assert knob_column[auth + 1 : auth + 3] == [
        "remoteauth_for: all -> restore_only",
        "store.backend: redis -> auto",
    ]
    assert "width: null -> 256" in knob_column
    assert "new -> optimized" in knob_column  # the total gap's two sides
    # The verdict sits under its saving, whole.
    assert any("significant" in line and "│" in line for line in lines)
