"""The qrbench command line: the Typer app, its consoles and `main`.

Every `QrbenchError` is caught once, in `main`, and becomes one line and an exit code.
Commands live beside this module, one module per group; they stay thin and call the core.
Only the module of the command being run is imported (`COMMANDS`): `qrbench --help` took
1.5 s importing the statistics, browser and HTTP stacks of commands it only lists.
"""

import importlib
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from qrbench import __version__
from qrbench.errors import QrbenchError
from qrbench.report.console.safe import printable

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 gate failed, 2 usage or configuration error, "
    "3 environment or runtime failure (no Chromium, every session failed), 130 interrupted."
)


def _no_python_type(ctx: Any) -> str | None:
    return None


def _variadic(ctx: Any) -> str | None:
    return "..."


def reflowed(help_text: str) -> str:
    """A docstring's paragraphs as one line each, for Rich to wrap to the terminal.

    Typer keeps a docstring's line breaks and Rich wraps each line again, so at 80 columns
    a paragraph became lines of one word after each full one. A paragraph marked `\b`
    (examples) or with indented lines keeps its lines."""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(
        paragraph
        if paragraph.startswith("\b") or any(line[:1].isspace() for line in paragraph.splitlines())
        else " ".join(paragraph.split("\n"))
        for paragraph in paragraphs
    )


class _FlagsTakeNoValue:
    """Help without a value type beside a flag: Typer shows `<bool>` there (even for
    --help), which reads as if the flag took a value. An empty metavar shows nothing.

    An argument's metavar (FILE) is its name in the help; beside it Typer shows the
    Python type (`<list[Path]>`), which says nothing to a user: only `...` for several.

    The command's own help is reflowed (`reflowed`) so Rich wraps whole paragraphs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_text = getattr(self, "help", None)
        if help_text:
            self.help = reflowed(help_text)

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
            elif isinstance(param, TyperArgument) and param.metavar is not None:
                param.display_type_rich = _variadic if param.nargs != 1 else _no_python_type
        return params


class _Command(_FlagsTakeNoValue, TyperCommand):
    pass


class _Group(_FlagsTakeNoValue, TyperGroup):
    pass


@dataclass(frozen=True)
class CommandEntry:
    module: str
    # The command's short help, as its docstring's first paragraph says it (a test keeps
    # them equal): the root help lists it without importing the module.
    summary: str


# In the order the root help lists them.
COMMANDS = {
    "run": CommandEntry(
        "qrbench.cli.run",
        "Time real headless Chromium sessions under one profile and print each stage.",
    ),
    "compare": CommandEntry(
        "qrbench.cli.compare",
        "Compare profiles side by side: every stage, time-to-QR and the success rate.",
    ),
    "explain": CommandEntry(
        "qrbench.cli.compare",
        "Measure what each configuration knob costs: the study's impact table, measured.",
    ),
    "gate": CommandEntry(
        "qrbench.cli.gate",
        "Fail a CI build when the QR got slow, unreliable or slower than the baseline.",
    ),
    "capacity": CommandEntry(
        "qrbench.cli.capacity",
        "How many logins at once one machine holds: ramp the load until the criterion breaks.",
    ),
    "doctor": CommandEntry(
        "qrbench.cli.doctor",
        "Say whether this machine can run the profile, and the fix for each no.",
    ),
    "report": CommandEntry(
        "qrbench.cli.report",
        "Write one self-contained HTML report (charts as inline SVG; opens offline).",
    ),
    "serve": CommandEntry(
        "qrbench.cli.run",
        "Serve the local WhatsApp Web replica for a person to open, until Ctrl-C.",
    ),
    "profiles": CommandEntry(
        "qrbench.cli.profiles", "List, show and validate profiles and scenarios."
    ),
    "baseline": CommandEntry(
        "qrbench.cli.gate", "Save the run `qrbench gate --baseline` compares against."
    ),
}


def load_commands(argv: Sequence[str] | None = None) -> None:
    """Import the module of the command `argv` runs, or of every command when `argv` is
    None; a root option or an unknown name imports none (the root help lists them all)."""
    if argv is None:
        names = list(COMMANDS)
    else:
        # The root takes no option with a value: its first other word is the command.
        names = [next((word for word in argv if not word.startswith("-")), "")]
    for name in names:
        if name in COMMANDS:
            importlib.import_module(COMMANDS[name].module)


class _Root(_Group):
    """The root group: every command listed, only the loaded ones defined."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found: click.Command | None = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in COMMANDS:
            # Listed by the root help only; `main` loads a command before running it.
            summary = COMMANDS[cmd_name].summary
            return click.Command(cmd_name, help=summary, short_help=summary)
        return found


class _Typer(typer.Typer):
    """A Typer whose commands and groups show flags as above."""

    def __init__(self, *, cls: type[TyperGroup] = _Group, **kwargs: Any) -> None:
        super().__init__(cls=cls, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return super().command(*args, cls=_Command, **kwargs)


app = _Typer(
    cls=_Root,
    help=(
        "Time how long a headless-Chromium WhatsApp gateway takes to show a login QR, "
        "stage by stage, against a 10-second target. " + EXIT_CODES_HELP + "\n\n\b\n"
        "Examples:\n"
        "  qrbench run --profile optimized\n"
        "  qrbench compare old new optimized --runs 10\n"
        "  qrbench run --help"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

profiles_app = _Typer(help="List, show and validate profiles and scenarios.")

app.add_typer(profiles_app, name="profiles")

baseline_app = _Typer(help="Save the run `qrbench gate --baseline` compares against.")

app.add_typer(baseline_app, name="baseline")

console = Console()

errors = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"qrbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    pass


def main() -> None:
    # Typer handles usage errors (exit 2) and exits itself; qrbench's own errors pass through.
    try:
        load_commands(sys.argv[1:])
        app()
    except QrbenchError as exc:
        # An error may quote a results file or a page: shown as text, never as escape codes.
        errors.print(f"qrbench: error: {printable(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
