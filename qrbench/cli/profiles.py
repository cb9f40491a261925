"""`qrbench profiles list|show|validate`."""

from typing import Annotated

import typer
import yaml
from rich.table import Table

from qrbench.cli.app import console, errors, profiles_app
from qrbench.config.loader import list_profiles, list_scenarios, load_profile, load_scenario
from qrbench.config.models import profile_to_dict
from qrbench.errors import ConfigError


@profiles_app.command("list")
def profiles_list() -> None:
    """List the profiles and scenarios qrbench can find (./profiles first, then shipped)."""
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
    name: Annotated[str, typer.Argument(help="Profile name or path.")],
    scenario: Annotated[
        bool, typer.Option("--scenario", help="NAME is a scenario, not a profile.")
    ] = False,
) -> None:
    """Print a profile (or scenario) fully resolved: extends followed, defaults filled in."""
    model = load_scenario(name) if scenario else load_profile(name)
    console.print(
        yaml.safe_dump(profile_to_dict(model), sort_keys=False),
        end="",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@profiles_app.command("validate")
def profiles_validate(
    files: Annotated[list[str], typer.Argument(help="Profile files (or names) to check.")],
    scenario: Annotated[
        bool, typer.Option("--scenario", help="The files are scenarios, not profiles.")
    ] = False,
) -> None:
    """Check profiles; each problem names file, key path and line. Exit 2 if any is bad."""
    bad = 0
    for ref in files:
        try:
            load_scenario(ref) if scenario else load_profile(ref)
        except ConfigError as exc:
            bad += 1
            errors.print(f"[red]✗[/red] {exc}", highlight=False, soft_wrap=True)
        else:
            console.print(f"[green]✓[/green] {ref}")
    if bad:
        raise typer.Exit(ConfigError.exit_code)
