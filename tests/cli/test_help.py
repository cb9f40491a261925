"""`--help` as a user reads it: defaults shown, and a value's kind beside each option that
takes one (none beside a flag)."""

import re
from pathlib import Path

import pytest

from tests.helpers import qrbench


def help_rows(command: list[str], cwd: Path) -> dict[str, str]:
    """Option -> its row of the help's Options panel, in a fixed width so rows do not wrap."""
    done = qrbench(*command, "--help", cwd=cwd, env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines():
        found = re.match(r"│ (--[a-z-]+)\s+(.*?)\s*│$", line)
        if found:
            # Column padding squeezed: what is left is what a reader sees in order.
            rows[found[1]] = " ".join(found[2].split())
    return rows


def test_defaults_written_into_the_help_are_shown(tmp_path: Path) -> None:
    run = help_rows(["run"], tmp_path)
    assert run["--output"].endswith(
        "Results file. [default: (results/<UTC time>-<profile>-<scenario>.json)]"
    )
    compare = help_rows(["compare"], tmp_path)
    assert compare["--reference"].endswith("compared with. [default: (the first)]")


@pytest.mark.parametrize(
    ("command", "option", "metavar"),
    [
        (["gate"], "--target", "DURATION"),
        (["gate"], "--percentile", "PERCENTILE"),
        (["gate"], "--min-success", "PERCENT"),
        (["gate"], "--max-regression", "PERCENT"),
    ],
)
def test_thresholds_say_what_they_take(
    command: list[str], option: str, metavar: str, tmp_path: Path
) -> None:
    assert help_rows(command, tmp_path)[option].startswith(f"{metavar} ")


@pytest.mark.parametrize(
    ("command", "flag", "help_text"),
    [
        ([], "--version", "Print version."),
        ([], "--help", "Show this message and exit."),
        (["run"], "--keep-profiles", "--no-keep-profiles Keep the Chromium user-data dirs"),
        (["run"], "--help", "Show this message and exit."),
        (["gate"], "--save-baseline", "When the gate passes"),
        (["profiles", "show"], "--scenario", "NAME is a scenario"),
    ],
)
def test_a_flag_shows_no_value_type(
    command: list[str], flag: str, help_text: str, tmp_path: Path
) -> None:
    # Its help comes right after its name(s), where an option taking a value shows its kind.
    assert re.fullmatch(rf"(-\w )?{re.escape(help_text)}.*", help_rows(command, tmp_path)[flag])


def test_options_taking_a_value_still_show_its_kind(tmp_path: Path) -> None:
    rows = help_rows(["run"], tmp_path)
    assert re.match(r"-n <int range> \[x>=1\] Measured sessions", rows["--runs"])
    assert "<bool>" not in "".join(rows.values())
