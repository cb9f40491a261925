"""Caveats in words: the warning, and the hint that says what to do about it."""

from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from qrbench.analysis.caveats import Caveat, CaveatKind
from qrbench.analysis.stats import FEW_RUNS, FIRST_RUN_SLOW_FACTOR, NOISY_CV, OUTLIER_Z
from qrbench.report.wording.numbers import format_ms

# The environment keys a comparison holds alike (results/README.md), as people name them.
ENVIRONMENT_NAMES = {
    "chromium": "Chromium",
    "cpu_model": "CPU model",
    "cpu_cores": "CPU cores",
    "world": "the world (replica or live)",
}


def caveat_message(caveat: Caveat) -> str:
    """The warning, led by the run it concerns: `new: time-to-QR is noisy (CV 14% > 10%)`."""
    prefix = "" if caveat.label is None else f"{caveat.label}: "
    match caveat.kind:
        case CaveatKind.TOO_FEW_RUNS:
            return (
                f"{prefix}only {caveat.n} successful run(s); no difference is called "
                f"significant below {FEW_RUNS} per profile"
            )
        case CaveatKind.NOISY:
            return f"{prefix}time-to-QR is noisy (CV {caveat.cv:.0%} > {NOISY_CV:.0%})"
        case CaveatKind.OUTLIERS:
            listed = ", ".join(
                f"session {number} ({format_ms(ms)} ms)" for number, ms in caveat.sessions.items()
            )
            return f"{prefix}time-to-QR outlier(s), modified z-score > {OUTLIER_Z}: {listed}"
        case CaveatKind.FIRST_RUN_SLOW:
            (first_ms,) = caveat.sessions.values()
            return (
                f"{prefix}the first measured run ({format_ms(first_ms)} ms) is more than "
                f"{FIRST_RUN_SLOW_FACTOR:g}x the median of the rest"
            )
        case CaveatKind.MACHINE_BUSY:
            text = (
                f"{prefix}load average {caveat.load_average:g} on {caveat.cores} core(s) "
                "when the run started"
            )
            return text if caveat.runs == 1 else f"{text} (all {caveat.runs} runs)"
        case CaveatKind.ENVIRONMENTS_DIFFER:
            what = ENVIRONMENT_NAMES.get(caveat.setting or "", caveat.setting)
            listed = ", ".join(f"{label} {value}" for label, value in caveat.values.items())
            return f"{prefix}{what} differs between the runs: {listed}"
        case CaveatKind.FEW_SESSIONS_FOR_LEVEL:
            return (
                f"{prefix}{caveat.check} rests on only {caveat.n} session(s); a "
                f"{caveat.level:g}% level speaks of 1 session in {caveat.needed}, so it needs "
                f"{caveat.needed} or more"
            )
        case _:
            assert_never(caveat.kind)


def grouped_warnings(caveats: Sequence[Caveat]) -> list[tuple[str, str]]:
    """(message, hint) per caveat, those that say the same of several runs said once:
    `old, new: only 2 successful run(s); ...`, in the order first seen."""
    labels: dict[tuple[str, str], list[str]] = {}
    for caveat in caveats:
        unlabelled = replace(caveat, label=None)
        key = (caveat_message(unlabelled), caveat_hint(unlabelled))
        found = labels.setdefault(key, [])
        if caveat.label is not None:
            found.append(caveat.label)
    return [
        (f"{', '.join(named)}: {message}" if named else message, hint)
        for (message, hint), named in labels.items()
    ]


def caveat_hint(caveat: Caveat) -> str:
    match caveat.kind:
        case CaveatKind.TOO_FEW_RUNS:
            return (
                f"measure again with --runs {FEW_RUNS} or more (10 or more for small differences)"
            )
        case CaveatKind.NOISY:
            return "close other programs, then add runs: noise hides small differences"
        case CaveatKind.OUTLIERS:
            return (
                "check those sessions in the results file (errors, a cold cache, other load); "
                "medians and the rank test resist outliers, means do not"
            )
        case CaveatKind.FIRST_RUN_SLOW:
            return "raise --warmup so cold caches and first-launch costs stay out of the numbers"
        case CaveatKind.MACHINE_BUSY:
            return "wait until the machine is idle (load below the core count) and measure again"
        case CaveatKind.ENVIRONMENTS_DIFFER if caveat.setting == "world":
            return (
                "the replica and the real WhatsApp Web are different networks and pages: "
                "compare runs of one world (--world)"
            )
        case CaveatKind.ENVIRONMENTS_DIFFER:
            return (
                "compare runs from one machine and one Chromium build; otherwise the "
                "ratio measures the machines too"
            )
        case CaveatKind.FEW_SESSIONS_FOR_LEVEL:
            return f"measure with --runs {caveat.needed} or more before trusting its pass"
        case _:
            assert_never(caveat.kind)


def run_warning(caveat: Caveat) -> str:
    """A caveat of one run's summary, in one line (`qrbench run` has no profile to compare)."""
    match caveat.kind:
        case CaveatKind.TOO_FEW_RUNS:
            return (
                f"only {caveat.n} measured run(s) of time-to-QR: use --runs {FEW_RUNS} or more "
                "before drawing conclusions"
            )
        case CaveatKind.NOISY:
            return (
                f"time-to-QR is noisy (CV {caveat.cv:.0%} > {NOISY_CV:.0%}): close other "
                "programs or add runs"
            )
        case _:
            return f"{caveat_message(caveat)}: {caveat_hint(caveat)}"
