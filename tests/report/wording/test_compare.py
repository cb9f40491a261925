"""A comparison in words: ratios and success rates against the reference's."""

import pytest

from qrbench.analysis.compare import SuccessRate
from qrbench.analysis.stats import Difference, RankTest, RatioOfMedians, Significance
from qrbench.report.wording.compare import (
    describe_success_difference,
    evidence,
    family_note,
    p_values,
    ratio_phrase,
    runs_for_family,
    short_difference,
    short_p_value,
)

REFERENCE = SuccessRate(succeeded=20, measured=20, p_value=None)


def test_a_success_rate_is_lower_higher_or_not_told_apart() -> None:
    lower = SuccessRate(succeeded=10, measured=20, p_value=0.0004)
    assert describe_success_difference(lower, REFERENCE) == "lower (Fisher p < 0.001)"
    higher = SuccessRate(succeeded=20, measured=20, p_value=0.0004)
    worse_reference = SuccessRate(succeeded=10, measured=20, p_value=None)
    assert describe_success_difference(higher, worse_reference) == "higher (Fisher p < 0.001)"
    same = SuccessRate(succeeded=19, measured=20, p_value=1.0)
    assert describe_success_difference(same, REFERENCE) == "not significant (Fisher p = 1)"
    few = SuccessRate(succeeded=1, measured=3, p_value=0.01)
    assert describe_success_difference(few, REFERENCE) == "too few runs to tell (Fisher p = 0.01)"
    assert describe_success_difference(REFERENCE, REFERENCE) == "no sessions to compare"


def difference(
    ratio: float | None, significance: Significance, p_value: float = 0.5, adjusted: float = 0.5
) -> Difference:
    return Difference(
        ratio=None
        if ratio is None
        else RatioOfMedians(value=ratio, ci_low=ratio * 0.9, ci_high=ratio * 1.1),
        test=RankTest(p_value=p_value, superiority=0.5, n_sample=10, n_reference=10),
        adjusted_p_value=adjusted,
        significance=significance,
    )


@pytest.mark.parametrize(
    ("ratio", "significance", "phrase"),
    [
        (1.0, Significance.NOT_SIGNIFICANT, "same median"),
        (1.004, Significance.NOT_SIGNIFICANT, "same median"),
        (0.996, Significance.TOO_FEW_RUNS, "same median"),
        (1.03, Significance.NOT_SIGNIFICANT, "1.03x slower"),
        (0.5, Significance.FASTER, "2.00x faster"),
        # Too few runs to judge: the ratio, no direction.
        (1.34, Significance.TOO_FEW_RUNS, "median ratio 1.34x"),
        (0.5, Significance.TOO_FEW_RUNS, "median ratio 0.50x"),
    ],
)
def test_a_ratio_reads_same_median_and_takes_no_direction_without_a_judgement(
    ratio: float, significance: Significance, phrase: str
) -> None:
    assert ratio_phrase(difference(ratio, significance)) == phrase


@pytest.mark.parametrize(
    ("ratio", "significance", "cell"),
    [
        (1.72, Significance.SLOWER, "1.72x slower"),
        (0.5, Significance.FASTER, "2.00x faster"),
        (1.001, Significance.SLOWER, "same median"),
        (None, Significance.SLOWER, "slower"),
        # No judgement, or none found: no direction.
        (1.3, Significance.NOT_SIGNIFICANT, "n.s."),
        (1.34, Significance.TOO_FEW_RUNS, "ratio 1.34x"),
        (0.999, Significance.TOO_FEW_RUNS, "same median"),
        (None, Significance.TOO_FEW_RUNS, "ref 0 ms"),
    ],
)
def test_a_table_cell_names_a_direction_only_where_the_test_called_one(
    ratio: float | None, significance: Significance, cell: str
) -> None:
    assert short_difference(difference(ratio, significance)) == cell


def test_the_p_that_decided_is_shown_beside_the_raw_one() -> None:
    alone = difference(1.5, Significance.SLOWER, p_value=0.016, adjusted=0.016)
    assert p_values(alone) == "p = 0.016"
    in_family = difference(1.5, Significance.NOT_SIGNIFICANT, p_value=0.016, adjusted=0.17)
    assert p_values(in_family) == "p = 0.016, Holm 0.17"
    assert evidence(in_family) == "not significant (p = 0.016, Holm 0.17)"
    assert short_p_value(in_family) == "0.17"
    tiny = difference(1.5, Significance.SLOWER, p_value=0.00001, adjusted=0.0002)
    assert p_values(tiny) == "p < 0.001, Holm < 0.001"
    assert short_p_value(difference(1.5, Significance.TOO_FEW_RUNS)) == "-"


def test_a_family_needs_more_runs_the_larger_it_is() -> None:
    # 5 a side reach p = 0.0079: enough for up to 6 tests, not for 7 or 11.
    assert [runs_for_family(size) for size in (1, 6, 7, 11, 40)] == [5, 5, 6, 6, 7]
    note = family_note({"new": 11, "optimized": 11}, "old", time_to_qr_alone=False)
    assert note == "significance: Holm-adjusted across 11 metrics vs old, family alpha 0.05"
    mixed = family_note({"new": 11, "optimized": 10}, "old", time_to_qr_alone=False)
    assert mixed is not None and "across 11 metrics for new, 10 metrics for optimized" in mixed
    assert family_note({"new": 0}, "old", time_to_qr_alone=False) is None
