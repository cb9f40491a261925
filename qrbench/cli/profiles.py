"""`qrbench profiles list|show|validate`."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from qrbench.cli.app import console, errors, profiles_app
from qrbench.config.loader import (
    ProfileError,
    list_profiles,
    list_scenarios,
    load_profile,
    load_scenario,
)
from qrbench.config.models import Profile, Scenario, profile_to_dict
from qrbench.errors import ConfigError


class Kind(StrEnum):
    PROFILE = "profile"
    SCENARIO = "scenario"


KindOption = Annotated[
    Kind | None,
    typer.Option(
        "--kind",
        metavar="profile|scenario",
        help="What NAME is. By default a scenario when it is a scenario's name (and no "
        "profile's) or a file in a scenarios/ folder, else a profile.",
        show_default=False,
    ),
]


def _kind_of(ref: str, kind: Kind | None) -> Kind:
    """The kind asked for, or the one `ref` names: `--scenario` takes a name everywhere
    else, so here a scenario is found by its name rather than by a flag."""
    if kind is not None:
        return kind
    if Path(ref).suffix in (".yaml", ".yml"):
        return Kind.SCENARIO if Path(ref).parent.name == "scenarios" else Kind.PROFILE
    scenarios = {entry.name for entry in list_scenarios()}
    profiles = {entry.name for entry in list_profiles()}
    return Kind.SCENARIO if ref in scenarios and ref not in profiles else Kind.PROFILE


def _load(ref: str, kind: Kind | None) -> Profile | Scenario:
    return load_scenario(ref) if _kind_of(ref, kind) is Kind.SCENARIO else load_profile(ref)


@profiles_app.command("list")
def profiles_list() -> None:
    """List the profiles and scenarios qrbench can find (./profiles first, then shipped).

    \b
    Example:
      qrbench profiles list
    """
    for title, entries in (("Profiles", list_profiles()), ("Scenarios", list_scenarios())):
        table = Table(title=title, title_justify="left", show_edge=False)
        table.add_column("name", style="bold")
        table.add_column("where")
        table.add_column("description")
        for entry in entries:
            table.add_row(
                entry.name, "shipped" if entry.shipped else str(entry.path), entry.description
            )
        console.print(table)


@profiles_app.command("show")
def profiles_show(
    name: Annotated[
        str, typer.Argument(metavar="NAME|PATH", help="A profile's or scenario's name, or a path.")
    ],
    kind: KindOption = None,
) -> None:
    """Print a profile (or scenario) fully resolved: extends followed, defaults filled in.

    \b
    Examples:
      qrbench profiles show optimized
      qrbench profiles show lan                  # a scenario: found by its name
      qrbench profiles show my-world.yaml --kind scenario
    """
    console.print(
        yaml.safe_dump(profile_to_dict(_load(name, kind)), sort_keys=False),
        end="",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@profiles_app.command("validate")
def profiles_validate(
    files: Annotated[
        list[str], typer.Argument(metavar="NAME|PATH", help="Profiles or scenarios to check.")
    ],
    kind: KindOption = None,
) -> None:
    """Check profiles and scenarios; every problem, by line, names file, key path and line.

    Exit 2 if any is bad.

    \b
    Examples:
      qrbench profiles validate profiles/*.yaml
      qrbench profiles validate profiles/scenarios/flaky.yaml
    """
    bad = 0
    for ref in files:
        try:
            _load(ref, kind)
        except ProfileError as exc:
            bad += 1
            for problem in exc.problems:
                errors.print(
                    f"[red]✗[/red] {escape(str(problem))}", highlight=False, soft_wrap=True
                )
        except ConfigError as exc:
            bad += 1
            errors.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        else:
            console.print(f"[green]✓[/green] {escape(ref)}", highlight=False)
    if bad:
        raise typer.Exit(ConfigError.exit_code)
