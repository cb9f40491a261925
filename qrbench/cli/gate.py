"""`qrbench gate` and `qrbench baseline save`."""

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from qrbench import results
from qrbench.analysis.gate import judge
from qrbench.analysis.sequential import recorded_target_stop
from qrbench.analysis.thresholds import parse_overrides, resolve_thresholds
from qrbench.baseline import baseline_name, baseline_path, copy_to_baseline, read_baseline
from qrbench.cli.app import app, baseline_app
from qrbench.cli.capacity import gate_capacity
from qrbench.cli.flows import exports_for, measure_run, run_exports, write_run_exports
from qrbench.cli.options import (
    DEFAULT_PROFILE,
    DEFAULT_RUNS,
    DEFAULT_SCENARIO,
    DEFAULT_WARMUP,
    STEP_SUMMARY_ENV,
    TARGET_MAX_RUNS,
    ArrivalRate,
    BrowserEndpoints,
    BrowserProviderOption,
    BudgetOption,
    Concurrency,
    CsvExport,
    Engine,
    HtmlExport,
    JsonExport,
    JunitExport,
    MarkdownExport,
    ProfileOption,
    ReceiverBind,
    ReplicaBind,
    ReplicaPort,
    ResultsOutput,
    Runs,
    ScenarioOption,
    Seed,
    TargetMaxRuns,
    Warmup,
    WorldOption,
    browser_choice,
    given_on_command_line,
    load_of,
    on_engine,
    on_world,
    run_count,
    seeded,
)
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import EngineKind
from qrbench.errors import ConfigError, QrbenchError
from qrbench.outputs import check_results_file
from qrbench.report.console.gate import print_gate
from qrbench.report.export import append, write
from qrbench.report.export import html as html_export
from qrbench.report.export import junit as junit_export
from qrbench.report.export import markdown as markdown_export
from qrbench.report.wording.sampling import target_line

# The options that shape the run a gate makes, whose defaults are values: refused, when
# typed, beside --results or --capacity-results.
_RUN_SHAPE = ["profile", "scenario", "runs", "max_runs", "budget", "warmup"]


@app.command()
def gate(
    ctx: typer.Context,
    profile: ProfileOption = DEFAULT_PROFILE,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    runs: Runs = str(DEFAULT_RUNS),
    max_runs: TargetMaxRuns = None,
    budget: BudgetOption = None,
    warmup: Warmup = DEFAULT_WARMUP,
    output: ResultsOutput = None,
    results_file: Annotated[
        Path | None,
        typer.Option(
            "--results",
            metavar="FILE",
            help="Judge this results file instead of running sessions (its own profile's "
            "gate: section applies).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="Time-to-QR at --percentile must be at most this, e.g. 10s or 800ms "
            "(default: the profile's gate.target_s, else its target.deadline_s).",
        ),
    ] = None,
    percentile: Annotated[
        str | None,
        typer.Option(
            metavar="PERCENTILE",
            help="Percentile of the successful sessions' time-to-QR held to --target: p95, 95 "
            "or 95% (default: gate.percentile, 95).",
        ),
    ] = None,
    min_success: Annotated[
        str | None,
        typer.Option(
            "--min-success",
            metavar="PERCENT",
            help="Share of the sessions that must show a verified QR, e.g. 98% or 98; a "
            "number below 1 needs its % sign (0.98 could mean 98% or 0.98%, so it is refused) "
            "(default: gate.min_success_percent, 98%).",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Results file to check for regressions against, e.g. "
            "results/baselines/optimized-lan.json.",
        ),
    ] = None,
    max_regression: Annotated[
        str | None,
        typer.Option(
            "--max-regression",
            metavar="PERCENT",
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
    junit_file: JunitExport = None,
    markdown_file: MarkdownExport = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="One line per stage regression check, and every check's whole reason "
            "(by default passing stage checks share one line).",
        ),
    ] = False,
    html_file: HtmlExport = None,
    engine: Engine = None,
    world_kind: WorldOption = None,
    concurrency: Concurrency = None,
    arrival_rate: ArrivalRate = None,
    seed: Seed = None,
    capacity_results: Annotated[
        Path | None,
        typer.Option(
            "--capacity-results",
            metavar="FILE",
            help="Judge this `qrbench capacity` results file against --min-capacity instead.",
        ),
    ] = None,
    min_capacity: Annotated[
        float | None,
        typer.Option(
            "--min-capacity",
            metavar="N",
            help="With --capacity-results: fail when the ramp's knee (sessions in flight, or "
            "per minute for an arrival-rate ramp) is below N.",
        ),
    ] = None,
    browser_provider: BrowserProviderOption = None,
    browser_endpoint: BrowserEndpoints = None,
    replica_bind: ReplicaBind = None,
    replica_port: ReplicaPort = None,
    receiver_bind: ReceiverBind = None,
) -> None:
    """Fail a CI build when the QR got slow, unreliable or slower than the baseline.

    Runs sessions exactly like `qrbench run` (or judges --results FILE), then checks:
    time-to-QR at --percentile of the successful sessions <= --target; the share of
    sessions that showed a verified QR >= --min-success; and, with --baseline, that
    time-to-QR and every stage's median is not slower by more than --max-regression
    AND significantly so (Mann-Whitney U at 0.05 for time-to-QR, the stages Holm-adjusted
    as one family; at least 5 successful runs a side: too few runs is reported, never
    failed on). Passing stage checks share one line unless --verbose. Thresholds not
    given here come from the profile's gate: section. Warns when the baseline ran on
    another machine or Chromium. With $GITHUB_STEP_SUMMARY set, the verdict's Markdown
    is appended there too. With --runs auto the run goes on until the target and success
    checks are settled at 95 % confidence however often it looks (a line says how), or
    the percentile is known within 10 % of the target, --max-runs or --budget; with
    --baseline, until the median is also shown regressed or within --max-regression of
    the baseline's (a failed target or a regression ends it at once). The checks
    themselves are then judged on the sessions it took, as always.

    Exit codes: 0 every check passed, 1 a check failed, 2 usage or configuration error
    (a bad threshold, a missing baseline file), 3 environment failure (no Chromium,
    every session failed).

    With --capacity-results FILE --min-capacity N it judges a capacity ramp instead:
    its knee must be at least N (docs/load.md).

    \b
    Examples:
      qrbench gate --profile optimized --runs 5 --target 10s \\
        --baseline results/baselines/optimized-lan.json --junit gate.xml
      qrbench gate --capacity-results results/ramp.json --min-capacity 4
    """
    if capacity_results is not None or min_capacity is not None:
        others = {
            **{"--output": output, "--results": results_file, "--baseline": baseline},
            **{"--target": target, "--percentile": percentile, "--min-success": min_success},
            **{"--max-regression": max_regression, "--save-baseline": save_baseline or None},
            **{"--junit": junit_file, "--markdown": markdown_file, "--seed": seed},
            **{"--concurrency": concurrency, "--arrival-rate": arrival_rate},
        }
        given = given_on_command_line(ctx, _RUN_SHAPE)
        given += [option for option, value in others.items() if value is not None]
        gate_capacity(capacity_results, min_capacity, given)
        return
    overrides = parse_overrides(
        target=target, percentile=percentile, min_success=min_success, max_regression=max_regression
    )
    # Read before any session runs: a typo in the path must not cost a benchmark first.
    reference = None if baseline is None else read_baseline(baseline)
    # The Markdown is written by hand below: the step summary gets it even without --markdown.
    _, screen = exports_for(
        {
            "--markdown": (markdown_export, markdown_file),
            "--junit": (junit_export, junit_file),
            "--html": (html_export, html_file),
        }
    )
    browsers = browser_choice(
        browser_provider, browser_endpoint, replica_bind, replica_port, receiver_bind
    )
    if results_file is None:
        count = run_count(runs, max_runs, budget, None, default_max=TARGET_MAX_RUNS)
        loaded = on_world(on_engine(load_profile(profile), engine), world_kind)
        world = seeded(load_scenario(scenario), seed)
        load = load_of(concurrency, arrival_rate, seed, world)
        if save_baseline:
            check_results_file(
                baseline_path(baseline_name(loaded.name, loaded.engine), world.name), "baseline"
            )
        outcome = measure_run(
            loaded,
            world,
            count,
            warmup,
            output,
            screen,
            load=load,
            browsers=browsers,
            thresholds=resolve_thresholds(overrides, loaded),
            baseline_ms=None if reference is None else reference.columns.qr_times,
        )
        judged, auto_stop = results.read_run(outcome.results_path), outcome.summary.auto_stop
    else:
        run_options = {
            "--output": output,
            "--concurrency": concurrency,
            "--arrival-rate": arrival_rate,
            "--seed": seed,
            "--engine": engine,
            "--world": world_kind,
        }
        given = given_on_command_line(ctx, _RUN_SHAPE)
        given += [option for option, value in run_options.items() if value is not None]
        given += browsers.given()
        if given:
            raise ConfigError(
                f"{', '.join(given)}: only for a gate that runs sessions, not with --results"
            )
        judged = results.read_run(results_file)
        auto_stop = recorded_target_stop(judged)
        if auto_stop is not None:
            # Said as the run said it when it ended (a gate that runs prints it above).
            line = f"--runs auto: {target_line(auto_stop)}"
            screen.print(escape(line), highlight=False, soft_wrap=True)
    report = replace(judge(judged, overrides, reference), auto_stop=auto_stop)
    print_gate(screen, report, verbose=verbose)
    markdown = markdown_export.render_gate(report)
    if markdown_file is not None:
        write(markdown, markdown_file)
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    # `--markdown "$GITHUB_STEP_SUMMARY"` has written it there already.
    if step_summary and markdown_file != step_summary:
        append(markdown, Path(step_summary))
    if junit_file is not None:
        write(junit_export.render_gate(report), junit_file)
    if html_file is not None:
        write(html_export.render_gate(report), html_file)
    if report.every_session_failed:
        raise QrbenchError(f"every session failed; see the failures above and {report.source}")
    if save_baseline:
        if report.passed:
            engine = str(judged.profile.get("engine", EngineKind.MODEL))
            destination = baseline_path(baseline_name(report.profile, engine), report.scenario)
            copy_to_baseline(report.source, destination)
            screen.print(f"baseline saved to {destination}")
        else:
            screen.print("[yellow]baseline not saved: the gate failed[/yellow]")
    if not report.passed:
        raise typer.Exit(1)


@baseline_app.command("save")
def baseline_save(
    profile: ProfileOption = DEFAULT_PROFILE,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    runs: Runs = str(DEFAULT_RUNS),
    warmup: Warmup = DEFAULT_WARMUP,
    engine: Engine = None,
    concurrency: Concurrency = None,
    arrival_rate: ArrivalRate = None,
    seed: Seed = None,
    json_file: JsonExport = None,
    markdown_file: MarkdownExport = None,
    csv_file: CsvExport = None,
    html_file: HtmlExport = None,
) -> None:
    """Run sessions and save them as results/baselines/<profile>-<scenario>.json.

    A baseline is an ordinary results file: it records the machine and the Chromium
    build, and `qrbench gate --baseline` warns when it judges a run from another. Commit
    it; results/baselines/ is the one folder of results/ git tracks.

    \b
    Examples:
      qrbench baseline save --profile optimized --scenario lan --runs 10
      qrbench baseline save --engine whatsapp-web.js --html baseline.html
    """
    loaded = on_engine(load_profile(profile), engine)
    world = seeded(load_scenario(scenario), seed)
    load = load_of(concurrency, arrival_rate, seed, world)
    destination = baseline_path(baseline_name(loaded.name, loaded.engine), world.name)
    check_results_file(destination, "baseline")
    exports, screen = run_exports(json_file, markdown_file, csv_file, html_file)
    count = run_count(runs, None, None, None, default_max=TARGET_MAX_RUNS)
    outcome = measure_run(loaded, world, count, warmup, None, screen, load=load)
    write_run_exports(exports, loaded, world, outcome)
    if outcome.summary.succeeded == 0:
        raise QrbenchError(f"every session failed; no baseline saved (see {outcome.results_path})")
    copy_to_baseline(outcome.results_path, destination)
    screen.print(f"baseline saved to {destination}")
