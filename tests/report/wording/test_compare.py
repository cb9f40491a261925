"""A comparison in words: success rates against the reference's."""

from qrbench.analysis.compare import SuccessRate
from qrbench.report.wording.compare import describe_success_difference

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
