"""Caveats in words: each kind's warning and hint, and a run summary's one-line form."""

import pytest

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.report.wording.caveats import (
    caveat_hint,
    caveat_message,
    grouped_warnings,
    run_warning,
)


@pytest.mark.parametrize(
    ("caveat", "message"),
    [
        (
            Caveat(CaveatKind.TOO_FEW_RUNS, "new", n=3),
            "new: only 3 successful run(s); no difference is called significant below 5 "
            "per profile",
        ),
        (Caveat(CaveatKind.NOISY, "new", cv=0.234), "new: time-to-QR is noisy (CV 23% > 10%)"),
        (
            Caveat(CaveatKind.OUTLIERS, "old", sessions={4: 1031.2, 7: 40_000.0}),
            "old: time-to-QR outlier(s), modified z-score > 3.5: session 4 (1,031 ms), "
            "session 7 (40,000 ms)",
        ),
        (
            Caveat(CaveatKind.FIRST_RUN_SLOW, "cold", sessions={2: 5000.0}),
            "cold: the first measured run (5,000 ms) is more than 1.5x the median of the rest",
        ),
        (
            Caveat(CaveatKind.MACHINE_BUSY, "new", load_average=9.5, cores=4),
            "new: load average 9.5 on 4 core(s) when the run started",
        ),
        (
            Caveat(CaveatKind.MACHINE_BUSY, None, load_average=5.0, cores=2, runs=11),
            "load average 5 on 2 core(s) when the run started (all 11 runs)",
        ),
        (
            Caveat(
                CaveatKind.ENVIRONMENTS_DIFFER,
                None,
                setting="chromium",
                values={"old": "Chromium 131", "new": None},
            ),
            "Chromium differs between the runs: old Chromium 131, new None",
        ),
    ],
)
def test_every_kind_reads_with_its_figures(caveat: Caveat, message: str) -> None:
    assert caveat_message(caveat) == message


def test_every_kind_has_its_own_hint() -> None:
    hints = {kind: caveat_hint(Caveat(kind, None)) for kind in CaveatKind}
    assert len(set(hints.values())) == len(CaveatKind)
    assert hints[CaveatKind.TOO_FEW_RUNS] == (
        "measure again with --runs 5 or more (10 or more for small differences)"
    )


def test_a_run_summary_phrases_its_caveats_in_one_line() -> None:
    assert run_warning(Caveat(CaveatKind.TOO_FEW_RUNS, None, n=2)) == (
        "only 2 measured run(s) of time-to-QR: use --runs 5 or more before drawing conclusions"
    )
    assert run_warning(Caveat(CaveatKind.NOISY, None, cv=0.35)) == (
        "time-to-QR is noisy (CV 35% > 10%): close other programs or add runs"
    )


def test_a_caveat_said_of_several_runs_is_said_once_naming_them() -> None:
    few = [Caveat(CaveatKind.TOO_FEW_RUNS, label, n=2) for label in ("old", "new", "optimized")]
    noisy = Caveat(CaveatKind.NOISY, "new", cv=0.4)
    other = Caveat(CaveatKind.TOO_FEW_RUNS, "slow", n=3)
    warnings = grouped_warnings([few[0], noisy, few[1], few[2], other])
    assert [message for message, _ in warnings] == [
        "old, new, optimized: only 2 successful run(s); no difference is called significant "
        "below 5 per profile",
        "new: time-to-QR is noisy (CV 40% > 10%)",
        "slow: only 3 successful run(s); no difference is called significant below 5 per profile",
    ]
    assert warnings[0][1] == caveat_hint(few[0])
