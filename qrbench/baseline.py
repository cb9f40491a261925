"""Baselines: the saved run a gate compares against, one per profile and scenario.

A baseline is an ordinary results file (it records the machine and Chromium it ran on),
kept in results/baselines/, the one folder of results/ that git tracks.
"""

from pathlib import Path

from qrbench import results
from qrbench.atomic import write_atomic

BASELINE_DIR = Path("results") / "baselines"


def baseline_path(profile: str, scenario: str, directory: Path = BASELINE_DIR) -> Path:
    return directory / f"{profile}-{scenario}.json"


def copy_to_baseline(results_path: Path, destination: Path) -> None:
    """Copy a results file to `destination` atomically: a gate never reads half a baseline."""
    write_atomic(destination, results_path.read_bytes())


def check_usable(baseline: results.SavedResults) -> None:
    """Raises ResultsError when no measured session of `baseline` can be compared with."""
    if not any(session.ok for session in baseline.measured):
        raise results.ResultsError(f"{baseline.path}: no successful session to compare with")


def read_baseline(path: Path) -> results.SavedResults:
    if not path.is_file():
        raise results.ResultsError(
            f"{path}: no such baseline file (save one with "
            "`qrbench baseline save --profile P --scenario S`)"
        )
    saved = results.load(path)
    # Checked now, before a gate spends its benchmark: afterwards it could only fail.
    check_usable(saved)
    return saved
