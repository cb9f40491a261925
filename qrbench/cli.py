"""The qrbench command line: parse, build typed objects, call the core, print.

Every `QrbenchError` is caught once, in `main`, and becomes one line and an exit code.
"""

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
import yaml
from rich.console import Console
from rich.table import Table

from qrbench import __version__, results, runner
from qrbench.aio import Interrupted, run_until_signalled
from qrbench.baseline import baseline_path, copy_to_baseline, read_baseline
from qrbench.compare import (
    compare,
    load_runs,
    resolve_reference,
    run_from_document,
    unique_labels,
)
from qrbench.errors import ConfigError, QrbenchError
from qrbench.explain import Direction, explain, load_estimates, parse_direction, plan_explanation
from qrbench.export import STDOUT, append, write
from qrbench.export import csv as csv_export
from qrbench.export import json as json_export
from qrbench.export import junit as junit_export
from qrbench.export import markdown as markdown_export
from qrbench.gate import judge, parse_overrides, read_run
from qrbench.output.compare import print_comparison
from qrbench.output.explain import print_explanation
from qrbench.output.gate import print_gate
from qrbench.output.progress import RichRunListener
from qrbench.output.tables import print_run
from qrbench.profile import (
    Profile,
    Scenario,
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

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
DEFAULT_PROFILE = "optimized"
DEFAULT_SCENARIO = "lan"
DEFAULT_RUNS = 5
DEFAULT_WARMUP = 1


# The export options `compare` and `explain` share.
MarkdownExport = Annotated[
    str | None,
    typer.Option(
        "--markdown",
        help="Also write GitHub-flavoured Markdown ('-': stdout), e.g. $GITHUB_STEP_SUMMARY.",
    ),
]
JsonExport = Annotated[
    str | None, typer.Option("--json", help="Also write the result as JSON ('-': stdout).")
]


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
    ] = DEFAULT_PROFILE,
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario name or path: the world it runs in.")
    ] = DEFAULT_SCENARIO,
    runs: Annotated[
        int, typer.Option("--runs", "-n", min=1, help="Measured sessions.")
    ] = DEFAULT_RUNS,
    warmup: Annotated[
        int, typer.Option(min=0, help="Sessions run first and left out of the statistics.")
    ] = DEFAULT_WARMUP,
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
    # With the JSON on stdout, the human-readable output goes to stderr.
    screen = errors if json_file == STDOUT else console
    outcome = _measure(loaded, world, runs, warmup, output, screen, keep_profiles=keep_profiles)
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


def _interrupted(exc: Interrupted, results_paths: list[Path]) -> NoReturn:
    kept = ", ".join(str(path) for path in results_paths)
    errors.print(
        f"qrbench: interrupted ({exc.signal_name}); finished sessions are kept in {kept}",
        highlight=False,
    )
    raise typer.Exit(130)


@app.command()
def serve(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario whose replica sizes to use.")
    ] = DEFAULT_SCENARIO,
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
    targets: Annotated[
        list[str],
        typer.Argument(
            help="Two or more profiles (names or YAML paths) to run interleaved, "
            "or two or more results files (*.json) written by `qrbench run`.",
            show_default=False,
        ),
    ],
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario every profile runs in.")
    ] = DEFAULT_SCENARIO,
    runs: Annotated[
        int, typer.Option("--runs", "-n", min=1, help="Measured sessions per profile.")
    ] = 10,
    warmup: Annotated[
        int, typer.Option(min=0, help="Warmup sessions per profile, left out of the statistics.")
    ] = 1,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Label (profile name) or file the others are compared with [default: the first]."
        ),
    ] = None,
    markdown_file: MarkdownExport = None,
    json_file: JsonExport = None,
    csv_file: Annotated[
        str | None,
        typer.Option("--csv", help="Also write one CSV row per metric and profile ('-': stdout)."),
    ] = None,
) -> None:
    """Compare profiles side by side: every stage, time-to-QR and the success rate.

    Given profiles, it runs their sessions interleaved (A B A B ...) under one scenario,
    each into its own results file; given results files, it compares them without
    running anything. Each profile is labelled with its name (a repeated name becomes
    NAME#2). Against the reference, each other profile gets the ratio of medians with a
    95 % bootstrap CI and a Mann-Whitney U test: "slower"/"faster" only when p < 0.05
    with at least 5 successful runs per profile, "not significant" otherwise. Warnings
    with hints follow: noise, outliers, too few runs, a slow first run, a busy machine,
    differing machines or Chromium builds.

    \b
    Examples:
      qrbench compare old new optimized --runs 10
      qrbench compare optimized optimized          # A/A: expect "not significant"
      qrbench compare results/a.json results/b.json --markdown "$GITHUB_STEP_SUMMARY"
    """
    if len(targets) < 2:
        raise typer.BadParameter("give at least two profiles or results files")
    exports, screen = _exports(
        {
            "--markdown": (markdown_export, markdown_file),
            "--json": (json_export, json_file),
            "--csv": (csv_export, csv_file),
        }
    )
    files = [target for target in targets if target.endswith(".json")]
    if files and len(files) != len(targets):
        raise ConfigError("compare either profiles or results files (*.json), not a mix")
    paths = [Path(f) for f in files] or _run_interleaved(targets, scenario, runs, warmup, screen)
    compared = load_runs(paths)
    comparison = compare(compared, resolve_reference(reference, compared))
    print_comparison(screen, comparison)
    for exporter, destination in exports:
        write(exporter.render_comparison(comparison), destination)


@app.command("explain")
def explain_gap(
    slow: Annotated[
        str, typer.Argument(help="The slow profile (name or YAML path).", show_default=False)
    ],
    fast: Annotated[
        str, typer.Argument(help="The fast profile (name or YAML path).", show_default=False)
    ],
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario every variant runs in.")
    ] = DEFAULT_SCENARIO,
    runs: Annotated[
        int, typer.Option("--runs", "-n", min=1, help="Measured sessions per variant.")
    ] = DEFAULT_RUNS,
    warmup: Annotated[
        int, typer.Option(min=0, help="Warmup sessions per variant, left out of the statistics.")
    ] = DEFAULT_WARMUP,
    direction: Annotated[
        str,
        typer.Option(
            help="forward: SLOW with one group at a time set as in FAST; backward: FAST with "
            "one group at a time set back as in SLOW; both.",
        ),
    ] = Direction.FORWARD.value,
    estimates: Annotated[
        str | None,
        typer.Option(
            help="Guessed savings to print beside the measured ones: a YAML file, or a name "
            "from profiles/estimates/ ('seed': the study's impact table).",
        ),
    ] = None,
    markdown_file: MarkdownExport = None,
    json_file: JsonExport = None,
) -> None:
    """Measure what each configuration knob costs: the study's impact table, measured.

    Splits the knobs in which SLOW and FAST differ into the study's groups (auth,
    timeouts, Chromium args, web-version cache, webhook, DB updates, routing, chat sync,
    QR options) and runs SLOW, FAST and, per group, SLOW with only that group set as in
    FAST (forward; `new+webhook`) or FAST with only that group set back (backward;
    `optimized-webhook`), interleaved, each into its own results file. Per group: the
    time-to-QR saving (difference of medians, written like the study's "-500 ms") with a
    95 % bootstrap CI, Mann-Whitney significance, its share of the total gap and the
    stages it moved; then the interaction remainder, the part of the gap no group
    explains alone (total gap = sum of single savings + remainder).

    Exit codes: 0 explained, 2 usage or configuration error (identical profiles, an
    unknown --direction, a bad estimates file), 3 environment failure (no Chromium, no
    successful session on a side), 130 interrupted.

    \b
    Examples:
      qrbench explain new optimized --scenario typical --estimates seed
      qrbench explain old new --direction both --runs 10 --markdown explain.md
    """
    way = parse_direction(direction)
    exports, screen = _exports(
        {"--markdown": (markdown_export, markdown_file), "--json": (json_export, json_file)}
    )
    # Read before any session runs: a typo must not cost a benchmark first.
    guesses = None if estimates is None else load_estimates(estimates)
    world = load_scenario(scenario)
    plan = plan_explanation(load_profile(slow), load_profile(fast), way)
    groups = ", ".join(diff.group.title for diff in plan.groups)
    screen.print(
        f"explain {plan.slow} -> {plan.fast} on {world.name}: {len(plan.groups)} knob "
        f"group(s) differ ({groups}); {len(plan.configurations)} variants x ({runs} runs + "
        f"{warmup} warmup) = {plan.session_count(runs, warmup)} sessions, interleaved",
        highlight=False,
        soft_wrap=True,
    )
    directory = default_path(f"explain-{plan.slow}-{plan.fast}", world.name).with_suffix("")
    plans = [
        runner.RunPlan(
            profile=configuration.profile,
            scenario=world,
            runs=runs,
            warmup=warmup,
            results_path=directory / f"{configuration.label.replace('#', '-')}.json",
            label=configuration.label,
        )
        for configuration in plan.configurations
    ]
    paths = _run_plans(plans, screen)
    measured = [
        run_from_document(results.load(path), configuration.label, str(path))
        for path, configuration in zip(paths, plan.configurations, strict=True)
    ]
    explanation = explain(plan, measured, world.name, guesses)
    print_explanation(screen, explanation)
    for exporter, destination in exports:
        write(exporter.render_explanation(explanation), destination)
    if explanation.total is None:
        raise QrbenchError(
            f"no gap to split: {plan.slow} or {plan.fast} had no successful session "
            f"(see {directory})"
        )


def _run_interleaved(
    profile_refs: list[str], scenario: str, runs: int, warmup: int, screen: Console
) -> list[Path]:
    """Run the profiles in turns; returns their results files."""
    profiles = [load_profile(ref) for ref in profile_refs]
    world = load_scenario(scenario)
    labels = unique_labels([profile.name for profile in profiles])
    plans = [
        runner.RunPlan(
            profile=profile,
            scenario=world,
            runs=runs,
            warmup=warmup,
            results_path=default_path(label.replace("#", "-"), world.name),
            label=label,
        )
        for profile, label in zip(profiles, labels, strict=True)
    ]
    return _run_plans(plans, screen)


def _run_plans(plans: list[runner.RunPlan], screen: Console) -> list[Path]:
    """Run the plans' sessions in turns under one progress bar; returns their results files."""
    try:
        with RichRunListener(screen, show_labels=True) as listener:
            run_until_signalled(runner.run_interleaved(plans, listener))
    except Interrupted as exc:
        _interrupted(exc, [plan.results_path for plan in plans])
    return [plan.results_path for plan in plans]


_Format = TypeVar("_Format")


def _exports(
    options: dict[str, tuple[_Format, str | None]],
) -> tuple[list[tuple[_Format, str]], Console]:
    """The exports asked for, by option name, and the console for the human-readable output.

    At most one export may take stdout; when one does, the tables go to stderr.
    """
    exports = [(exporter, where) for exporter, where in options.values() if where is not None]
    on_stdout = [option for option, (_, where) in options.items() if where == STDOUT]
    if len(on_stdout) > 1:
        *others, last = options
        raise ConfigError(f"only one of {', '.join(others)} and {last} can write to stdout ('-')")
    return exports, errors if on_stdout else console


baseline_app = typer.Typer(help="Save the run `qrbench gate --baseline` compares against.")
app.add_typer(baseline_app, name="baseline")


def _measure(
    profile: Profile,
    scenario: Scenario,
    runs: int,
    warmup: int,
    output: Path | None,
    screen: Console,
    *,
    keep_profiles: bool = False,
) -> runner.RunOutcome:
    """Run sessions as `qrbench run` does: progress, the run's table, its results file."""
    plan = runner.RunPlan(
        profile=profile,
        scenario=scenario,
        runs=runs,
        warmup=warmup,
        results_path=output or default_path(profile.name, scenario.name),
        keep_profiles=keep_profiles,
    )
    try:
        with RichRunListener(screen) as listener:
            outcome = run_until_signalled(runner.run(plan, listener))
    except Interrupted as exc:
        _interrupted(exc, [plan.results_path])
    title = f"{profile.name} on {scenario.name}: {outcome.summary.measured} measured sessions"
    if warmup:
        title += f" ({warmup} warmup discarded)"
    print_run(screen, title, outcome.summary)
    screen.print(f"[dim]results written to {outcome.results_path}[/dim]")
    return outcome


@app.command()
def gate(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help=f"Profile to run, a name or path (default: {DEFAULT_PROFILE})."
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario", "-s", help=f"Scenario to run it in (default: {DEFAULT_SCENARIO})."
        ),
    ] = None,
    runs: Annotated[
        int | None,
        typer.Option("--runs", "-n", min=1, help=f"Measured sessions (default: {DEFAULT_RUNS})."),
    ] = None,
    warmup: Annotated[
        int | None,
        typer.Option(min=0, help=f"Sessions run first and left out (default: {DEFAULT_WARMUP})."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Results file of the run (default: results/<UTC time>-<profile>-<scenario>.json)."
        ),
    ] = None,
    results_file: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help="Judge this results file instead of running sessions (its own profile's "
            "gate: section applies).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            help="Time-to-QR at --percentile must be at most this, e.g. 10s or 800ms "
            "(default: the profile's gate.target_s, else its target.deadline_s).",
        ),
    ] = None,
    percentile: Annotated[
        str | None,
        typer.Option(
            help="Percentile of the successful sessions' time-to-QR held to --target "
            "(default: gate.percentile, 95).",
        ),
    ] = None,
    min_success: Annotated[
        str | None,
        typer.Option(
            "--min-success",
            help="Share of the sessions that must show a verified QR, e.g. 98% "
            "(default: gate.min_success_percent, 98%).",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Results file to check for regressions against, e.g. "
            "results/baselines/optimized-lan.json.",
        ),
    ] = None,
    max_regression: Annotated[
        str | None,
        typer.Option(
            "--max-regression",
            help="How much slower than the baseline (median) a significant slowdown may be "
            "(default: gate.max_regression_percent, 10%).",
        ),
    ] = None,
    save_baseline: Annotated[
        bool,
        typer.Option(
            "--save-baseline",
            help="When the gate passes, save the run as the baseline "
            "results/baselines/<profile>-<scenario>.json.",
        ),
    ] = False,
    junit_file: Annotated[
        str | None,
        typer.Option("--junit", help="Write JUnit XML, one testcase per check ('-': stdout)."),
    ] = None,
    markdown_file: Annotated[
        str | None,
        typer.Option(
            "--markdown",
            help=f"Write the verdict as Markdown ('-': stdout); with ${STEP_SUMMARY_ENV} set, "
            "it is appended there as well.",
        ),
    ] = None,
) -> None:
    """Fail a CI build when the QR got slow, unreliable or slower than the baseline.

    Runs sessions exactly like `qrbench run` (or judges --results FILE), then checks:
    time-to-QR at --percentile of the successful sessions <= --target; the share of
    sessions that showed a verified QR >= --min-success; and, with --baseline, that
    time-to-QR and every stage's median is not slower by more than --max-regression
    AND significantly so (Mann-Whitney U, p < 0.05, at least 5 successful runs a side:
    too few runs is reported, never failed on). Thresholds not given here come from the
    profile's gate: section. Warns when the baseline ran on another machine or Chromium.

    Exit codes: 0 every check passed, 1 a check failed, 2 usage or configuration error
    (a bad threshold, a missing baseline file), 3 environment failure (no Chromium,
    every session failed).

    \b
    Example:
      qrbench gate --profile optimized --runs 5 --target 10s \\
        --baseline results/baselines/optimized-lan.json --junit gate.xml
    """
    overrides = parse_overrides(
        target=target, percentile=percentile, min_success=min_success, max_regression=max_regression
    )
    # Read before any session runs: a typo in the path must not cost a benchmark first.
    reference = None if baseline is None else read_baseline(baseline)
    # The Markdown is written by hand below: the step summary gets it even without --markdown.
    _, screen = _exports(
        {"--markdown": (markdown_export, markdown_file), "--junit": (junit_export, junit_file)}
    )
    if results_file is None:
        outcome = _measure(
            load_profile(profile or DEFAULT_PROFILE),
            load_scenario(scenario or DEFAULT_SCENARIO),
            DEFAULT_RUNS if runs is None else runs,
            DEFAULT_WARMUP if warmup is None else warmup,
            output,
            screen,
        )
        judged = read_run(outcome.results_path)
    else:
        run_options = {
            "--profile": profile,
            "--scenario": scenario,
            "--runs": runs,
            "--warmup": warmup,
            "--output": output,
        }
        given = [option for option, value in run_options.items() if value is not None]
        if given:
            raise ConfigError(
                f"{', '.join(given)}: only for a gate that runs sessions, not with --results"
            )
        judged = read_run(results_file)
    report = judge(judged, overrides, reference)
    print_gate(screen, report)
    markdown = markdown_export.render_gate(report)
    if markdown_file is not None:
        write(markdown, markdown_file)
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    # `--markdown "$GITHUB_STEP_SUMMARY"` has written it there already.
    if step_summary and markdown_file != step_summary:
        append(markdown, Path(step_summary))
    if junit_file is not None:
        write(junit_export.render_gate(report), junit_file)
    if report.every_session_failed:
        raise QrbenchError(f"every session failed; see the failures above and {report.source}")
    if save_baseline:
        if report.passed:
            destination = baseline_path(report.profile, report.scenario)
            copy_to_baseline(report.source, destination)
            screen.print(f"baseline saved to {destination}")
        else:
            screen.print("[yellow]baseline not saved: the gate failed[/yellow]")
    if not report.passed:
        raise typer.Exit(1)


@baseline_app.command("save")
def baseline_save(
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Profile to run (name or path).")
    ] = DEFAULT_PROFILE,
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario to run it in.")
    ] = DEFAULT_SCENARIO,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Measured sessions.")] = (
        DEFAULT_RUNS
    ),
    warmup: Annotated[
        int, typer.Option(min=0, help="Sessions run first and left out.")
    ] = DEFAULT_WARMUP,
) -> None:
    """Run sessions and save them as results/baselines/<profile>-<scenario>.json.

    A baseline is an ordinary results file: it records the machine and the Chromium
    build, and `qrbench gate --baseline` warns when it judges a run from another. Commit
    it; results/baselines/ is the one folder of results/ git tracks.
    """
    loaded, world = load_profile(profile), load_scenario(scenario)
    outcome = _measure(loaded, world, runs, warmup, None, console)
    if outcome.summary.succeeded == 0:
        raise QrbenchError(f"every session failed; no baseline saved (see {outcome.results_path})")
    destination = baseline_path(loaded.name, world.name)
    copy_to_baseline(outcome.results_path, destination)
    console.print(f"baseline saved to {destination}")


def main() -> None:
    # Typer handles usage errors (exit 2) and exits itself; qrbench's own errors pass through.
    try:
        app()
    except QrbenchError as exc:
        errors.print(f"qrbench: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
