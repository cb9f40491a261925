"""`--help` as a user reads it, for every command (walked from the app, so a new command is
checked too): defaults shown, a metavar saying what to type beside each option that takes
a value (none beside a flag), and an example."""

import itertools
import re
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption

from qrbench.cli import app, load_commands
from qrbench.cli.app import COMMANDS as REGISTERED
from qrbench.cli.app import reflowed
from tests.helpers import qrbench


def _commands(group: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, TyperGroup):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


load_commands()
ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
COMMANDS = _commands(ROOT)


def _command(path: tuple[str, ...]) -> typer.main.TyperCommand:
    command = ROOT
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


def _params(path: tuple[str, ...]) -> list[TyperOption | TyperArgument]:
    command = _command(path)
    with typer.Context(command, info_name=path[-1]) as ctx:  # type: ignore[arg-type]
        # Through get_params, which is where qrbench's commands adjust flags and arguments.
        return [param for param in command.get_params(ctx) if param.name != "help"]


def help_text(command: list[str] | tuple[str, ...], cwd: Path) -> str:
    done = qrbench(*command, "--help", cwd=cwd, env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def help_rows(command: list[str] | tuple[str, ...], cwd: Path) -> dict[str, str]:
    """Option -> its row of the help's Options panel, in a fixed width so rows do not wrap."""
    rows = {}
    for line in help_text(command, cwd).splitlines():
        found = re.match(r"│ (--[a-z-]+)\s+(.*?)\s*│$", line)
        if found:
            # Column padding squeezed: what is left is what a reader sees in order.
            rows[found[1]] = " ".join(found[2].split())
    return rows


def test_the_walk_finds_every_command() -> None:
    # A command added later is walked too; this pins that the walk goes into the groups.
    assert {"run", "compare", "explain", "gate", "capacity", "report", "serve"} <= {
        path[0] for path in COMMANDS
    }
    assert {("baseline", "save"), ("profiles", "show"), ("profiles", "validate")} <= set(COMMANDS)


def test_the_root_lists_every_command_by_the_summary_its_own_help_gives() -> None:
    # The root help lists commands from app.COMMANDS without importing them.
    assert isinstance(ROOT, TyperGroup)
    assert set(ROOT.commands) == set(REGISTERED)
    for name, entry in REGISTERED.items():
        command = ROOT.commands[name]
        assert entry.summary == command.get_short_help_str(limit=500), name
        # Loading the entry's module is what defines the command (a group's commands).
        defined = command.commands.values() if isinstance(command, TyperGroup) else [command]
        assert {c.callback.__module__ for c in defined if c.callback} == {entry.module}, name


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda path: " ".join(path) or "qrbench")
def test_every_command_has_an_example(path: tuple[str, ...]) -> None:
    doc = _command(path).help or ""
    examples = re.search(r"\n *Examples?:\n((?: +qrbench .*\n?)+)", doc)
    assert examples, f"qrbench {' '.join(path)}: no 'Example(s):' block of qrbench lines"
    assert f"qrbench {' '.join(path)}" in examples[1]


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_value_says_what_to_type(path: tuple[str, ...]) -> None:
    for param in _params(path):
        if isinstance(param, TyperOption) and param.is_flag:
            assert param.metavar == "", f"{param.opts[0]}: a flag shows no value"
            continue
        # A metavar such as DURATION, FILE|-, NAME|PATH, not a Python type like <str>.
        assert param.metavar, f"qrbench {' '.join(path)} {param.opts[0]}: no metavar"
        assert re.fullmatch(r"[A-Za-z_.,|\-]+", param.metavar), param.metavar


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_default_is_shown_and_no_help_is_eaten_as_markup(path: tuple[str, ...]) -> None:
    for param in _params(path):
        name = param.opts[0]
        # Rich reads `[...]` in a help string as markup and drops it: `[default: 1]` vanished.
        assert not re.search(r"\[[a-z]", param.help or ""), f"{name}: markup in its help"
        has_value = param.default is not None and not (
            isinstance(param, TyperOption) and param.is_flag
        )
        if isinstance(param, TyperOption) and (has_value or isinstance(param.show_default, str)):
            assert param.show_default is not False, f"{name}: its default is hidden"


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda path: " ".join(path) or "qrbench")
def test_the_rendered_help_shows_no_python_types(path: tuple[str, ...], tmp_path: Path) -> None:
    shown = help_text(path, tmp_path)
    assert not re.search(r"<(bool|str|int|float|list|Path)", shown), shown


def test_defaults_written_into_the_help_are_shown(tmp_path: Path) -> None:
    run = help_rows(["run"], tmp_path)
    assert run["--output"].endswith(
        "Results file to write. [default: (results/<UTC time>-<profile>-<scenario>.json)]"
    )
    compare = help_rows(["compare"], tmp_path)
    assert compare["--reference"].endswith("compared with. [default: (the first)]")
    assert compare["--runs"].endswith("[default: auto]")
    assert compare["--max-runs"].endswith("[default: (60)]")
    assert help_rows(["explain"], tmp_path)["--margin"].endswith("[default: (100ms)]")


@pytest.mark.parametrize(
    ("command", "option", "metavar"),
    [
        (["gate"], "--target", "DURATION"),
        (["run"], "--target", "DURATION"),
        (["capacity"], "--target", "DURATION"),
        (["gate"], "--percentile", "PERCENTILE"),
        (["gate"], "--min-success", "PERCENT"),
        (["gate"], "--max-regression", "PERCENT"),
        (["gate"], "--results", "FILE"),
        (["run"], "--profile", "-p NAME|PATH"),
        (["run"], "--csv", "FILE|-"),
        (["gate"], "--junit", "FILE|-"),
        (["serve"], "--web-version", "VERSION"),
        (["profiles", "show"], "--kind", "profile|scenario"),
    ],
)
def test_options_say_what_they_take(
    command: list[str], option: str, metavar: str, tmp_path: Path
) -> None:
    assert help_rows(command, tmp_path)[option].startswith(f"{metavar} ")


def test_report_takes_files(tmp_path: Path) -> None:
    shown = help_text(["report"], tmp_path)
    assert re.search(r"│ \* +FILE +\.\.\. +Results files", shown), shown


@pytest.mark.parametrize(
    ("command", "flag", "help_text"),
    [
        ([], "--version", "Print version."),
        ([], "--help", "Show this message and exit."),
        (["run"], "--keep-profiles", "--no-keep-profiles Keep the Chromium user-data dirs"),
        (["run"], "--help", "Show this message and exit."),
        (["gate"], "--save-baseline", "When the gate passes"),
        (["gate"], "--verbose", "-v One line per stage"),
    ],
)
def test_a_flag_shows_no_value_type(
    command: list[str], flag: str, help_text: str, tmp_path: Path
) -> None:
    # Its help comes right after its name(s), where an option taking a value shows its kind.
    assert re.fullmatch(rf"(-\w )?{re.escape(help_text)}.*", help_rows(command, tmp_path)[flag])


def test_the_same_option_has_one_name_everywhere() -> None:
    # Every option spelled the same way has the same short form and metavar everywhere.
    seen: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {}
    for path in COMMANDS:
        for param in _params(path):
            if not isinstance(param, TyperOption):
                continue
            long_name = next(o for o in param.opts if o.startswith("--"))
            # `report -o -` may write to stdout, a results file may not: FILE|- and FILE agree.
            shape = (tuple(sorted(param.opts)), (param.metavar or "").removesuffix("|-"))
            if long_name in seen:
                assert seen[long_name][:2] == shape, (
                    f"{long_name} in {path} and {seen[long_name][2]}"
                )
            else:
                seen[long_name] = (*shape, path)


def ragged_lines(help_shown: str) -> list[str]:
    """Prose lines cut short though their paragraph goes on: a docstring's hard line break
    that Rich wrapped again (`... the share of` / `sessions that ...` at 80 columns)."""
    prose = help_shown.split("╭─", 1)[0].splitlines()
    ragged = []
    for line, following in itertools.pairwise(prose):
        both_prose = all(re.match(r" \S", text) for text in (line, following))
        if both_prose and len(line.rstrip()) < 50:
            ragged.append(line.strip())
    return ragged


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda path: " ".join(path) or "qrbench")
def test_help_paragraphs_wrap_whole_at_80_columns(path: tuple[str, ...], tmp_path: Path) -> None:
    done = qrbench(*path, "--help", cwd=tmp_path, env={"COLUMNS": "80"})

    assert done.returncode == 0, done.stderr
    assert ragged_lines(done.stdout) == []


def test_reflowing_keeps_examples_and_joins_paragraphs() -> None:
    doc = """First line.

    A paragraph written
    over three
    lines.

    \b
    Examples:
      qrbench run
      qrbench run -n 3
    """

    assert reflowed(doc).split("\n\n") == [
        "First line.",
        "A paragraph written over three lines.",
        "\b\nExamples:\n  qrbench run\n  qrbench run -n 3",
    ]
