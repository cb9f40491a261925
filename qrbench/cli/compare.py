"""`qrbench compare` and `qrbench explain`."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from qrbench import results
from qrbench.analysis.compare import (
    compare,
    load_runs,
    planned_reference,
    resolve_reference,
    run_from_results,
    unique_labels,
)
from qrbench.analysis.explain.attribution import explain
from qrbench.analysis.explain.plan import Direction, parse_direction, plan_explanation
from qrbench.cli.app import app
from qrbench.cli.flows import exports_for, planned_profiles, run_plans, run_profiles
from qrbench.cli.flows import max_runs as max_runs_of
from qrbench.cli.options import (
    AUTO,
    COMPARE_MAX_RUNS,
    DEFAULT_SCENARIO,
    DEFAULT_WARMUP,
    ENGINE_HELP,
    ENGINE_METAVAR,
    EXPLAIN_MARGIN_MS,
    ArrivalRate,
    BrowserEndpoints,
    BrowserProviderOption,
    BudgetOption,
    CompareMargin,
    CompareMaxRuns,
    Concurrency,
    CsvExport,
    Engine,
    ExplainMargin,
    HtmlExport,
    JsonExport,
    MarkdownExport,
    ReceiverBind,
    ReplicaBind,
    ReplicaPort,
    Runs,
    ScenarioOption,
    Seed,
    Warmup,
    WorldOption,
    browser_choice,
    load_of,
    on_engine,
    run_count,
    seeded,
)
from qrbench.config.estimates import load_estimates
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import EngineKind
from qrbench.errors import ConfigError, QrbenchError
from qrbench.measure.plan import RunPlan
from qrbench.measure.sampling import Contrast
from qrbench.report.console.compare import print_comparison
from qrbench.report.console.explain import print_explanation
from qrbench.report.export import csv as csv_export
from qrbench.report.export import html as html_export
from qrbench.report.export import json as json_export
from qrbench.report.export import markdown as markdown_export
from qrbench.report.export import write
from qrbench.results import default_path


@app.command("compare")
def compare_profiles(
    targets: Annotated[
        list[str],
        typer.Argument(
            metavar="PROFILE|FILE",
            help="Two or more profiles (names or YAML paths) to run interleaved, "
            "or two or more results files (*.json) written by `qrbench run`.",
            show_default=False,
        ),
    ],
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    runs: Runs = AUTO,
    max_runs: CompareMaxRuns = None,
    budget: BudgetOption = None,
    margin: CompareMargin = None,
    warmup: Warmup = DEFAULT_WARMUP,
    reference: Annotated[
        str | None,
        typer.Option(
            metavar="LABEL|FILE",
            help="Label (profile name) or file the others are compared with.",
            show_default="the first",
        ),
    ] = None,
    markdown_file: MarkdownExport = None,
    json_file: JsonExport = None,
    csv_file: CsvExport = None,
    html_file: HtmlExport = None,
    engines: Annotated[
        list[EngineKind] | None,
        typer.Option(
            "--engine",
            metavar=ENGINE_METAVAR,
            help=ENGINE_HELP + " Given twice, every profile runs on both, labelled "
            "NAME@ENGINE: the model against the real library.",
            show_default="each profile's engine",
        ),
    ] = None,
    world_kind: WorldOption = None,
    concurrency: Concurrency = None,
    arrival_rate: ArrivalRate = None,
    seed: Seed = None,
    browser_provider: BrowserProviderOption = None,
    browser_endpoint: BrowserEndpoints = None,
    replica_bind: ReplicaBind = None,
    replica_port: ReplicaPort = None,
    receiver_bind: ReceiverBind = None,
) -> None:
    """Compare profiles side by side: every stage, time-to-QR and the success rate.

    Given profiles, it runs their sessions interleaved (A B A B ...) under one scenario,
    each into its own results file; given results files, it compares them without
    running anything. With --concurrency or --arrival-rate (and --runs N) the measured
    sessions of every profile share the load, still started in turns. Each profile is labelled with
    its name (a repeated name becomes NAME#2). Against the reference, each other profile
    gets the ratio of medians with a 95 % bootstrap CI and a Mann-Whitney U test:
    "slower"/"faster" only when p < 0.05 with at least 5 successful runs per profile,
    "not significant" otherwise. Warnings with hints follow: noise, outliers, too few
    runs, a slow first run, a busy machine, differing machines or Chromium builds.

    With --runs auto (the default when it runs profiles) the rounds stop when each
    profile's time-to-QR is settled against the reference, slower, faster or the same
    within --margin (default 50ms), by a group-sequential test whose 5 % error rate holds
    however many rounds it looks at (docs/statistics.md); or at --max-runs (default 60)
    or --budget. A line per profile says why it stopped; only profiles still open keep
    running.

    \b
    Examples:
      qrbench compare old new optimized
      qrbench compare old new --runs auto --budget 5m --margin 100ms
      qrbench compare old new optimized --runs 10
      qrbench compare optimized optimized          # A/A: expect "not significant"
      qrbench compare optimized pooled             # what a warm pool of browsers buys
      qrbench compare optimized --engine model --engine whatsapp-web.js
      qrbench compare results/a.json results/b.json --markdown "$GITHUB_STEP_SUMMARY"
      qrbench compare old new --runs 10 --html compare.html
    """
    if len(targets) < 2 and len(engines or []) < 2:
        raise typer.BadParameter(
            "give at least two profiles or results files, or one profile and two --engine"
        )
    exports, screen = exports_for(
        {
            "--markdown": (markdown_export, markdown_file),
            "--json": (json_export, json_file),
            "--csv": (csv_export, csv_file),
            "--html": (html_export, html_file),
        }
    )
    browsers = browser_choice(
        browser_provider, browser_endpoint, replica_bind, replica_port, receiver_bind
    )
    files = [target for target in targets if target.endswith(".json")]
    if files and len(files) != len(targets):
        raise ConfigError("compare either profiles or results files (*.json), not a mix")
    if files:
        given = [
            option
            for option, value in {
                "--max-runs": max_runs,
                "--budget": budget,
                "--margin": margin,
                "--concurrency": concurrency,
                "--arrival-rate": arrival_rate,
                "--seed": seed,
                "--engine": engines,
                "--world": world_kind,
            }.items()
            if value is not None
        ] + browsers.given()
        if given:
            raise ConfigError(f"{', '.join(given)}: only for profiles run now, not results files")
        paths, stop = [Path(f) for f in files], None
    else:
        world = seeded(load_scenario(scenario), seed)
        load = load_of(concurrency, arrival_rate, seed, world)
        # Checked before any session runs: a typo must not cost a benchmark first.
        profiles = planned_profiles(targets, engines or [], world_kind)
        labels = unique_labels([profile.name for profile in profiles])
        # Each target as many times as it runs, so a reference given by target finds it.
        runs_per_target = max(1, len(engines or []))
        given = [target for target in targets for _ in range(runs_per_target)]
        reference = planned_reference(reference, given, labels)
        count = run_count(runs, max_runs, budget, margin, default_max=COMPARE_MAX_RUNS)
        paths, stop = run_profiles(
            profiles, world, count, warmup, screen, reference, load, browsers
        )
    compared = load_runs(paths)
    comparison = replace(compare(compared, resolve_reference(reference, compared)), auto_stop=stop)
    print_comparison(screen, comparison)
    for exporter, destination in exports:
        write(exporter.render_comparison(comparison), destination)


@app.command("explain")
def explain_gap(
    slow: Annotated[
        str,
        typer.Argument(
            metavar="SLOW", help="The slow profile (name or YAML path).", show_default=False
        ),
    ],
    fast: Annotated[
        str,
        typer.Argument(
            metavar="FAST", help="The fast profile (name or YAML path).", show_default=False
        ),
    ],
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    runs: Runs = AUTO,
    max_runs: CompareMaxRuns = None,
    budget: BudgetOption = None,
    margin: ExplainMargin = None,
    warmup: Warmup = DEFAULT_WARMUP,
    direction: Annotated[
        str,
        typer.Option(
            metavar="forward|backward|both",
            help="forward: SLOW with one group at a time set as in FAST; backward: FAST with "
            "one group at a time set back as in SLOW; both.",
        ),
    ] = Direction.FORWARD.value,
    estimates: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|PATH",
            help="Guessed savings to print beside the measured ones: a YAML file, or a name "
            "from profiles/estimates/ ('seed': the study's impact table).",
        ),
    ] = None,
    markdown_file: MarkdownExport = None,
    json_file: JsonExport = None,
    html_file: HtmlExport = None,
    engine: Engine = None,
) -> None:
    """Measure what each configuration knob costs: the study's impact table, measured.

    Splits the knobs in which SLOW and FAST differ into the study's groups (auth,
    timeouts, Chromium args, web-version cache, webhook, DB updates, routing, chat sync,
    QR options) and runs SLOW, FAST and, per group, SLOW with only that group set as in
    FAST (forward; `new+webhook`) or FAST with only that group set back (backward;
    `optimized-webhook`), interleaved, each into its own results file. Per group: the
    time-to-QR saving (difference of medians, written like the study's "-500 ms") with a
    95 % bootstrap CI, Mann-Whitney significance, its share of the total gap and the
    stages (and a traced gateway's spans) it moved; then the interaction remainder, the
    part of the gap no group explains alone (total gap = sum of single savings +
    remainder).

    Exit codes: 0 explained, 2 usage or configuration error (identical profiles, an
    unknown --direction, a bad estimates file), 3 environment failure (no Chromium, no
    successful session on a side), 130 interrupted.

    Sessions run one at a time (no --concurrency or --arrival-rate): a knob's saving is
    measured without the noise other sessions in flight would add.

    With --runs auto (the default) sessions go where the doubt is: each round runs SLOW
    and the variants whose saving is not yet settled, as significant or as smaller than
    --margin (default 100ms), at a 5 % error rate for the whole family (Bonferroni over
    the groups and the total gap; docs/statistics.md), until all are settled, --max-runs
    (default 60) or --budget.

    \b
    Examples:
      qrbench explain old new --scenario typical --budget 10m
      qrbench explain new optimized --scenario typical --estimates seed
      qrbench explain old new --direction both --runs 10 --markdown explain.md
      qrbench explain new optimized --estimates seed --html explain.html
    """
    way = parse_direction(direction)
    exports, screen = exports_for(
        {
            "--markdown": (markdown_export, markdown_file),
            "--json": (json_export, json_file),
            "--html": (html_export, html_file),
        }
    )
    # Read before any session runs: a typo must not cost a benchmark first.
    guesses = None if estimates is None else load_estimates(estimates)
    world = load_scenario(scenario)
    slow_profile = on_engine(load_profile(slow), engine)
    fast_profile = on_engine(load_profile(fast), engine)
    if slow_profile.engine != fast_profile.engine:
        raise ConfigError(
            f"{slow} runs on {slow_profile.engine} and {fast} on {fast_profile.engine}: "
            "explain splits knobs on one engine; choose it with --engine"
        )
    count = run_count(
        runs,
        max_runs,
        budget,
        margin,
        default_max=COMPARE_MAX_RUNS,
        default_margin_ms=EXPLAIN_MARGIN_MS,
    )
    plan = plan_explanation(slow_profile, fast_profile, way)
    groups = ", ".join(diff.group.title for diff in plan.groups)
    sessions = plan.session_count(max_runs_of(count), warmup)
    screen.print(
        f"explain {plan.slow} -> {plan.fast} on {world.name}: {len(plan.groups)} knob "
        f"group(s) differ ({groups}); {len(plan.configurations)} variants x ("
        + (
            f"{count} runs + {warmup} warmup) = {sessions} sessions, interleaved"
            if isinstance(count, int)
            else f"auto, at most {count.max_runs} runs + {warmup} warmup) = at most "
            f"{sessions} sessions, interleaved"
            + ("" if count.budget_s is None else f", within {count.budget_s:g} s")
        ),
        highlight=False,
        soft_wrap=True,
    )
    directory = default_path(f"explain-{plan.slow}-{plan.fast}", world.name).with_suffix("")
    plans = [
        RunPlan(
            profile=configuration.profile,
            scenario=world,
            runs=max_runs_of(count),
            warmup=warmup,
            results_path=directory / f"{configuration.label.replace('#', '-')}.json",
            label=configuration.label,
            adaptive=not isinstance(count, int),
        )
        for configuration in plan.configurations
    ]
    # Every switched group's saving, and the whole gap: the family --runs auto settles.
    contrasts = [Contrast(switch.fast_side, switch.slow_side) for switch in plan.switches]
    contrasts.append(Contrast(plan.fast, plan.slow))
    paths, stop = run_plans(plans, screen, contrasts, count)
    measured = [
        run_from_results(results.read_run(path), configuration.label)
        for path, configuration in zip(paths, plan.configurations, strict=True)
    ]
    explanation = replace(explain(plan, measured, world.name, guesses), auto_stop=stop)
    print_explanation(screen, explanation)
    for exporter, destination in exports:
        write(exporter.render_explanation(explanation), destination)
    if explanation.total is None:
        raise QrbenchError(
            f"no gap to split: {plan.slow} or {plan.fast} had no successful session "
            f"(see {directory})"
        )
