"""Baselines: the saved run a gate compares against, one per profile and scenario.

A baseline is an ordinary results file (it records the machine and Chromium it ran on),
kept in results/baselines/, the one folder of results/ that git tracks.
"""

from pathlib import Path

from qrbench.analysis.gate import SavedRun, baseline_run, read_run
from qrbench.atomic import write_atomic
from qrbench.results import ResultsError

BASELINE_DIR = Path("results") / "baselines"


def baseline_path(profile: str, scenario: str, directory: Path = BASELINE_DIR) -> Path:
    return directory / f"{profile}-{scenario}.json"


def copy_to_baseline(results_path: Path, destination: Path) -> None:
    """Copy a results file to `destination` atomically: a gate never reads half a baseline."""
    write_atomic(destination, results_path.read_bytes())


def read_baseline(path: Path) -> SavedRun:
    if not path.is_file():
        raise ResultsError(
            f"{path}: no such baseline file (save one with "
            "`qrbench baseline save --profile P --scenario S`)"
        )
    saved = read_run(path)
    # Checked now, before a gate spends its benchmark: afterwards it could only fail.
    baseline_run(saved)
    return saved
