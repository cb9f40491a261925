"""Caveats on one time-to-QR sample: too few runs, too much noise."""

from qrbench.analysis.caveats import Caveat, CaveatKind, stability_caveats
from qrbench.analysis.stats import summarize


def test_few_runs_and_noise_are_caveats_with_their_figures() -> None:
    few = summarize([1000.0, 1010.0])
    noisy = summarize([1000.0, 2000.0, 500.0, 1500.0, 3000.0, 800.0])
    steady = summarize([1000.0, 1005.0, 995.0, 1002.0, 998.0, 1001.0])
    assert noisy is not None
    assert stability_caveats(few, "old") == [Caveat(CaveatKind.TOO_FEW_RUNS, "old", n=2)]
    assert stability_caveats(noisy, None) == [Caveat(CaveatKind.NOISY, None, cv=noisy.cv)]
    assert noisy.cv > 0.10
    assert stability_caveats(steady, None) == []
    assert stability_caveats(None, None) == []
