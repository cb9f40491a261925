"""Hostile results files through `compare` and `gate --results`: one line and exit 2 for
anything qrbench did not write, and text that cannot reach the terminal as anything but text.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import qrbench, results_document

Edit = Callable[[dict[str, Any]], object]


def first_session(key: str, value: object) -> Edit:
    return lambda document: document["sessions"][0].update({key: value})


# Each case: how the file is spoiled, and what its one error line must say.
BAD_FILES: dict[str, tuple[Edit, str]] = {
    "nan": (first_session("time_to_qr_ms", float("nan")), "got NaN"),
    "infinite": (first_session("time_to_qr_ms", float("inf")), "got Infinity"),
    "negative": (first_session("time_to_qr_ms", -1.0), "got -1.0"),
    "boolean": (first_session("time_to_qr_ms", True), "got true"),
    "string-for-number": (first_session("time_to_qr_ms", "2000"), 'got "2000"'),
    "huge-integer": (
        first_session("time_to_qr_ms", 10**400),
        "got an integer too large for a float",
    ),
    "error-as-string": (first_session("error", "boom"), "error: expected an object or null"),
    "stage-missing-keys": (
        lambda document: document["sessions"][0]["stages"].__setitem__(0, {"name": "route"}),
        "stages[0].start_ms: missing",
    ),
}


def write_bad(directory: Path, case: str) -> Path:
    document = results_document("optimized", [2000.0, 2100.0, 2050.0])
    edit, _ = BAD_FILES[case]
    edit(document)
    path = directory / f"{case}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def good_file(directory: Path) -> Path:
    path = directory / "good.json"
    document = results_document("optimized", [2000.0, 2100.0, 2050.0])
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def commands(bad: Path, good: Path) -> list[tuple[str, ...]]:
    return [("gate", "--results", str(bad)), ("compare", str(bad), str(good))]


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_badly_typed_file_is_one_line_and_exit_2_in_gate_and_compare(
    tmp_path: Path, case: str
) -> None:
    bad, good = write_bad(tmp_path, case), good_file(tmp_path)
    _, message = BAD_FILES[case]

    for command in commands(bad, good):
        done = qrbench(*command, cwd=tmp_path)

        assert done.returncode == 2, (command, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith(f"qrbench: error: {bad}: session 1: "), line
        assert message in line
        assert done.stdout == ""


def test_deep_nesting_is_one_line_and_exit_2_in_gate_and_compare(tmp_path: Path) -> None:
    bad, good = tmp_path / "deep.json", good_file(tmp_path)
    depth = 100_000
    bad.write_text('{"schema_version": 1, "profile": ' + "[" * depth + "]" * depth + "}")

    for command in commands(bad, good):
        done = qrbench(*command, cwd=tmp_path)

        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"qrbench: error: {bad}: not a qrbench results file (nested too deeply)"
        ]


# A terminal title, a colour and a screen clear, an unmatched Rich closing tag and styles.
HOSTILE = "evil\x1b]0;pwned\x07\x1b[31m\x1b[2J[bold red]RED[/bold red][/x]\u202e"


def hostile_file(directory: Path) -> Path:
    document = results_document("optimized", [2000.0, 2100.0, None])
    document["status"] = "complete"  # judged as a finished run
    document["profile"]["name"] = HOSTILE
    document["scenario"]["name"] = HOSTILE
    failed = document["sessions"][2]
    failed["error"].update(type=HOSTILE, message=HOSTILE)
    failed["stages"][0]["name"] = HOSTILE
    path = directory / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["gate", "compare"])
def test_escape_codes_and_markup_from_a_file_reach_the_terminal_as_plain_text(
    tmp_path: Path, command: str
) -> None:
    hostile, good = hostile_file(tmp_path), good_file(tmp_path)
    arguments = ("--results", str(hostile)) if command == "gate" else (str(hostile), str(good))

    done = qrbench(command, *arguments, cwd=tmp_path, env={"FORCE_COLOR": "1"})

    # gate fails the success rate (2/3), compare succeeds: neither breaks on the text.
    assert done.returncode == (1 if command == "gate" else 0), done.stderr
    assert "Traceback" not in done.stderr
    shown = done.stdout
    for forbidden in ("\x1b]", "\x07", "\x1b[2J", "\x1b[31m", "\u202e"):
        assert forbidden not in shown
    # The markup is shown as the characters it is, not applied.
    assert "[bold red]RED[/bold red][/x]" in shown
