"""The qrbench command line: parse, build typed objects, call the core, print.

Every `QrbenchError` is caught once, in `main`, and becomes one line and an exit code.
"""

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from qrbench import __version__, runner
from qrbench.aio import Interrupted, run_until_signalled
from qrbench.compare import compare, load_runs, resolve_reference
from qrbench.errors import ConfigError, QrbenchError
from qrbench.export import STDOUT, Exporter, write
from qrbench.export import csv as csv_export
from qrbench.export import json as json_export
from qrbench.export import markdown as markdown_export
from qrbench.output.compare import print_comparison
from qrbench.output.progress import RichRunListener
from qrbench.output.tables import print_run
from qrbench.profile import (
    list_profiles,
    list_scenarios,
    load_profile,
    load_scenario,
    profile_to_dict,
)
from qrbench.replica.server import Replica, ReplicaConfig
from qrbench.results import default_path

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 gate failed, 2 usage or configuration error, "
    "3 environment or runtime failure (no Chromium, every session failed), 130 interrupted."
)

app = typer.Typer(
    help=(
        "Time how long a headless-Chromium WhatsApp gateway takes to show a login QR, "
        "stage by stage, against a 10-second target. " + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
profiles_app = typer.Typer(help="List, show and validate profiles and scenarios.")
app.add_typer(profiles_app, name="profiles")

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


@app.command()
def run(
    profile: Annotated[
        str,
        typer.Option(
            "--profile", "-p", help="Profile name (profiles/NAME.yaml, then shipped) or path."
        ),
    ] = "optimized",
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario name or path: the world it runs in.")
    ] = "lan",
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Measured sessions.")] = 5,
    warmup: Annotated[
        int, typer.Option(min=0, help="Sessions run first and left out of the statistics.")
    ] = 1,
    deadline: Annotated[
        float | None,
        typer.Option(help="Seconds to a verified QR; overrides the profile's target.deadline_s."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Results file [default: results/<UTC time>-<profile>-<scenario>.json]."),
    ] = None,
    json_file: Annotated[
        str | None, typer.Option("--json", help="Also write the summary as JSON ('-': stdout).")
    ] = None,
    keep_profiles: Annotated[
        bool, typer.Option(help="Keep the Chromium user-data dirs (and say where).")
    ] = False,
) -> None:
    """Time real headless Chromium sessions under one profile and print each stage.

    Each session launches Chromium with the profile's settings, loads the local
    WhatsApp Web replica (or target.url), waits for the login QR, encodes and verifies
    it. The results file is rewritten after every session, so Ctrl-C keeps what finished.

    Example: qrbench run --profile optimized --runs 10
    """
    if deadline is not None and deadline <= 0:
        raise ConfigError(f"--deadline must be greater than 0 (got {deadline:g})")
    loaded = load_profile(profile)
    if deadline is not None:
        loaded = loaded.model_copy(
            update={"target": loaded.target.model_copy(update={"deadline_s": deadline})}
        )
    world = load_scenario(scenario)
    plan = runner.RunPlan(
        profile=loaded,
        scenario=world,
        runs=runs,
        warmup=warmup,
        results_path=output or default_path(loaded.name, world.name),
        keep_profiles=keep_profiles,
    )
    # With the JSON on stdout, the human-readable output goes to stderr.
    screen = errors if json_file == STDOUT else console
    try:
        with RichRunListener(screen) as listener:
            outcome = run_until_signalled(runner.run(plan, listener))
    except Interrupted as exc:
        errors.print(
            f"qrbench: interrupted ({exc.signal_name}); finished sessions are kept in "
            f"{plan.results_path}",
            highlight=False,
        )
        raise typer.Exit(130) from None
    title = f"{loaded.name} on {world.name}: {outcome.summary.measured} measured sessions"
    if warmup:
        title += f" ({warmup} warmup discarded)"
    print_run(screen, title, outcome.summary)
    screen.print(f"[dim]results written to {outcome.results_path}[/dim]")
    if outcome.data_path is not None:
        screen.print(f"[dim]profiles kept in {outcome.data_path}[/dim]")
    if json_file is not None:
        write(
            json_export.render_run(loaded.name, world.name, outcome.results_path, outcome.summary),
            json_file,
        )
    if outcome.summary.measured and outcome.summary.succeeded == 0:
        raise QrbenchError(
            f"every session failed; see the failures above and {outcome.results_path}"
        )


@app.command()
def serve(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario whose replica sizes to use.")
    ] = "lan",
    version: Annotated[str, typer.Option(help="WhatsApp Web version the replica serves.")] = (
        ReplicaConfig.version
    ),
) -> None:
    """Serve the local WhatsApp Web replica for a person to open, until Ctrl-C."""
    world = load_scenario(scenario)
    config = ReplicaConfig(
        version=version, index_kb=world.replica.index_kb, bundle_kb=world.replica.bundle_kb
    )
    replica = Replica(config)
    urls = replica.start()
    try:
        console.print(f"WhatsApp Web replica {version} on 127.0.0.1:")
        console.print(f"  open:          {urls.index_url_loopback}")
        for name, address in urls.loopback.items():
            console.print(f"  {name:<26} -> {address}")
        console.print(
            "  in Chromium, the stable names work with:\n"
            f"    --host-resolver-rules='{urls.host_resolver_rules()}'",
            soft_wrap=True,
            highlight=False,
        )
        console.print("Ctrl-C to stop.")
        run_until_signalled(_forever())
    except Interrupted:
        pass
    finally:
        replica.stop()


async def _forever() -> None:
    await asyncio.Event().wait()


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


@app.command("compare")
def compare_profiles(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="Results files written by `qrbench run` (two or more).",
            show_default=False,
        ),
    ],
    reference: Annotated[
        str | None,
        typer.Option(
            help="Label (profile name) or file the others are compared with.",
            show_default="the first file",
        ),
    ] = None,
    markdown_file: Annotated[
        str | None,
        typer.Option(
            "--markdown",
            help="Also write GitHub-flavoured Markdown ('-': stdout), e.g. $GITHUB_STEP_SUMMARY.",
        ),
    ] = None,
    json_file: Annotated[
        str | None, typer.Option("--json", help="Also write the comparison as JSON ('-': stdout).")
    ] = None,
    csv_file: Annotated[
        str | None,
        typer.Option("--csv", help="Also write one CSV row per metric and profile ('-': stdout)."),
    ] = None,
) -> None:
    """Compare saved runs side by side: every stage, time-to-QR and the success rate.

    Each profile is labelled with its profile name (a repeated name becomes NAME#2).
    Against the reference, each other profile gets the ratio of medians with a 95 %
    bootstrap CI and a Mann-Whitney U test: "slower"/"faster" only when p < 0.05 with
    at least 5 successful runs per profile, "not significant" otherwise. Warnings with
    hints follow: noise, outliers, too few runs, a slow first run, a busy machine,
    differing machines or Chromium builds.

    \b
    Example:
      qrbench run --profile old --runs 10 --output old.json
      qrbench run --profile new --runs 10 --output new.json
      qrbench compare old.json new.json --markdown "$GITHUB_STEP_SUMMARY"
    """
    if len(files) < 2:
        raise typer.BadParameter("give at least two results files", param_hint="FILES...")
    exports: list[tuple[Exporter, str]] = [
        (exporter, destination)
        for exporter, destination in (
            (markdown_export, markdown_file),
            (json_export, json_file),
            (csv_export, csv_file),
        )
        if destination is not None
    ]
    on_stdout = [destination for _, destination in exports if destination == STDOUT]
    if len(on_stdout) > 1:
        raise ConfigError("only one of --markdown, --json and --csv can write to stdout ('-')")
    runs = load_runs(files)
    comparison = compare(runs, resolve_reference(reference, runs))
    # With an export on stdout, the human-readable output goes to stderr.
    print_comparison(errors if on_stdout else console, comparison)
    for exporter, destination in exports:
        write(exporter.render_comparison(comparison), destination)


def main() -> None:
    # Typer handles usage errors (exit 2) and exits itself; qrbench's own errors pass through.
    try:
        app()
    except QrbenchError as exc:
        errors.print(f"qrbench: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
