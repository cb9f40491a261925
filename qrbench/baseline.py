"""Baselines: the saved run a gate compares against, one per profile and scenario.

A baseline is an ordinary results file (it records the machine and Chromium it ran on),
kept in results/baselines/, the one folder of results/ that git tracks.
"""

from pathlib import Path

from qrbench import results
from qrbench.config.models import EngineKind
from qrbench.outputs import write_output

BASELINE_DIR = Path("results") / "baselines"


def baseline_name(profile: str, engine: str) -> str:
    """The name a baseline of `profile` on `engine` is saved under: the real library's
    baselines (NAME@whatsapp-web.js) sit beside the model's (NAME)."""
    return profile if engine == EngineKind.MODEL else f"{profile}@{engine}"


def baseline_path(profile: str, scenario: str, directory: Path = BASELINE_DIR) -> Path:
    # The names may come from a results file (`gate --results F --save-baseline`): a name
    # that is a path would put the baseline somewhere else.
    name = f"{profile}-{scenario}.json"
    if Path(name).name != name or name.startswith("."):
        raise results.ResultsError(
            f"profile {profile!r} on scenario {scenario!r}: not usable in a baseline file name"
        )
    return directory / name


def copy_to_baseline(results_path: Path, destination: Path) -> None:
    """Copy a results file to `destination` atomically: a gate never reads half a baseline."""
    write_output(destination, results_path.read_bytes(), "baseline")


def refuse_incomplete(run: results.SavedRun, why: str) -> None:
    """Raises ResultsError unless the run finished every session it planned.

    Refused, not failed: the sessions an interrupted run kept are not the run the gate was
    asked about (a stop after the fast ones would pass), and a failure would report a
    regression nobody measured. Either way CI stops, with the reason on one line.
    """
    if run.status is results.RunStatus.COMPLETE:
        return
    how = "was interrupted" if run.status is results.RunStatus.INTERRUPTED else "never finished"
    raise results.ResultsError(
        f"{run.path}: the run {how} after {run.session_count} sessions; {why}"
    )


def check_usable(baseline: results.SavedRun) -> None:
    """Raises ResultsError when `baseline` is not a complete run with a session to compare."""
    refuse_incomplete(baseline, "a baseline must be a complete run")
    if not baseline.columns.succeeded:
        raise results.ResultsError(f"{baseline.path}: no successful session to compare with")


def read_baseline(path: Path) -> results.SavedRun:
    if not path.is_file():
        raise results.ResultsError(
            f"{path}: no such baseline file (save one with "
            "`qrbench baseline save --profile P --scenario S`)"
        )
    saved = results.read_run(path)
    # Checked now, before a gate spends its benchmark: afterwards it could only fail.
    check_usable(saved)
    return saved
