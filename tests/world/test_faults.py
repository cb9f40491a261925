"""The seeded fault draw every part of a run agrees on."""

from collections import Counter

import pytest

from qrbench.config.models import Faults
from qrbench.world.faults import Fault, draw, probability


def pattern(faults: Faults, sessions: int = 200, attempts: int = 2) -> list[Fault | None]:
    return [draw(faults, s, a) for s in range(1, sessions + 1) for a in range(1, attempts + 1)]


def test_the_same_seed_gives_the_same_pattern_and_another_seed_another() -> None:
    flaky = Faults(seed=7, hang=0.1, drop=0.05, browser_crash=0.02)
    assert pattern(flaky) == pattern(Faults(seed=7, hang=0.1, drop=0.05, browser_crash=0.02))
    assert pattern(flaky) != pattern(flaky.model_copy(update={"seed": 8}))


def test_each_fault_strikes_at_about_its_probability() -> None:
    faults = Faults(seed=1, hang=0.2, drop=0.1, bundle_stall=0.05, http_500=0.05, browser_crash=0.1)
    drawn = Counter(pattern(faults, sessions=2000, attempts=1))
    for fault in Fault:
        # 2000 draws: three standard deviations of a 20 % rate are under 3 points.
        assert drawn[fault] / 2000 == pytest.approx(probability(faults, fault), abs=0.03)
    assert drawn[None] / 2000 == pytest.approx(0.5, abs=0.04)


def test_no_probability_means_no_fault_and_certainty_means_always() -> None:
    assert set(pattern(Faults(seed=3))) == {None}
    assert set(pattern(Faults(seed=3, hang=1.0))) == {Fault.HANG}
