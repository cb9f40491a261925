"""A comparison in words: ratios and success rates against the reference's."""

import pytest

from qrbench.analysis.compare import SuccessRate
from qrbench.analysis.stats import Difference, RankTest, RatioOfMedians, Significance
from qrbench.report.wording.compare import describe_success_difference, ratio_phrase

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


def difference(ratio: float, significance: Significance) -> Difference:
    return Difference(
        ratio=RatioOfMedians(value=ratio, ci_low=ratio * 0.9, ci_high=ratio * 1.1),
        test=RankTest(p_value=0.5, superiority=0.5, n_sample=10, n_reference=10),
        adjusted_p_value=0.5,
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
