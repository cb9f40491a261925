import numpy as np
import pytest

from qrbench.stats import stability_warnings, summarize


def test_summary_of_known_values() -> None:
    values = [100.0, 200.0, 300.0, 400.0, 1000.0]
    summary = summarize(values)
    assert summary is not None
    assert (summary.n, summary.min, summary.median, summary.max) == (5, 100, 300, 1000)
    assert summary.mean == pytest.approx(400.0)
    assert summary.sd == pytest.approx(np.std(values, ddof=1))
    assert summary.p95 == pytest.approx(np.percentile(values, 95))
    assert summary.median_ci_low <= summary.median <= summary.median_ci_high


def test_no_values_no_summary() -> None:
    assert summarize([]) is None


def test_single_value_has_zero_spread() -> None:
    summary = summarize([42.0])
    assert summary is not None
    assert (summary.sd, summary.median_ci_low, summary.median_ci_high) == (0.0, 42.0, 42.0)


def test_bootstrap_ci_covers_the_true_median_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    trials = 200
    for _ in range(trials):
        sample = rng.normal(loc=1000.0, scale=50.0, size=30)
        summary = summarize(sample.tolist())
        assert summary is not None
        covered += summary.median_ci_low <= 1000.0 <= summary.median_ci_high
    assert 0.88 <= covered / trials <= 0.99


def test_warnings_for_few_runs_and_noise() -> None:
    few = summarize([1000.0, 1010.0])
    noisy = summarize([1000.0, 2000.0, 500.0, 1500.0, 3000.0, 800.0])
    steady = summarize([1000.0, 1005.0, 995.0, 1002.0, 998.0, 1001.0])
    assert any("measured run" in w for w in stability_warnings("time-to-QR", few))
    assert any("noisy" in w for w in stability_warnings("time-to-QR", noisy))
    assert stability_warnings("time-to-QR", steady) == []
