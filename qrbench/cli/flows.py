"""What several commands do alike: run plans under a progress bar, route exports."""

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from qrbench.analysis.compare import unique_labels
from qrbench.analysis.sequential import AutoStop
from qrbench.analysis.thresholds import ThresholdOverrides, Thresholds, resolve_thresholds
from qrbench.cli.app import console, errors
from qrbench.cli.options import AS_PROFILED, BrowserChoice, on_engine, on_world
from qrbench.config.load import ONE_AT_A_TIME, Load
from qrbench.config.loader import load_profile
from qrbench.config.models import EngineKind, Profile, Scenario, World
from qrbench.errors import ConfigError
from qrbench.measure.plan import RunOutcome, RunPlan
from qrbench.measure.sampling import AdaptiveDesign, Contrast, ShiftSampling, TargetSampling
from qrbench.measure.signals import Interrupted, run_until_signalled
from qrbench.outputs import check_results_file, check_writable
from qrbench.records import PAGE_SERVICE
from qrbench.report.console.progress import RichRunListener
from qrbench.report.console.spans import spans_table
from qrbench.report.console.tables import print_run
from qrbench.report.export import STDOUT, write
from qrbench.report.export import csv as csv_export
from qrbench.report.export import html as html_export
from qrbench.report.export import json as json_export
from qrbench.report.export import markdown as markdown_export
from qrbench.report.wording.run import spans_note
from qrbench.report.wording.sampling import auto_heading, shift_lines, target_line
from qrbench.results import release, reserve_default_path

# What tells a results file this run wrote from one that was there before: an atomic
# rewrite makes a new inode, a write through a link changes size or time.
_FileState = tuple[int, int, int] | None


def file_state(path: Path) -> _FileState:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _states(paths: list[Path]) -> dict[Path, _FileState]:
    return {path: file_state(path) for path in paths}


def interrupted(exc: Interrupted, before: dict[Path, _FileState]) -> NoReturn:
    """Exit 130, naming the results files this run wrote (states from `_states` before it)."""
    written = [path for path, state in before.items() if file_state(path) not in (None, state)]
    if written:
        kept = ", ".join(str(path) for path in written)
        detail = f"finished sessions are kept in {kept}"
    else:
        detail = "no session finished, so no results file was written"
    errors.print(f"qrbench: interrupted ({exc.signal_name}); {detail}", highlight=False)
    raise typer.Exit(130)


def planned_profiles(
    profile_refs: list[str], engines: list[EngineKind], world: World | None = None
) -> list[Profile]:
    """The profiles `compare` runs: each on each engine asked for (none: its own), in
    `world` when one was asked for."""
    loaded = [on_world(load_profile(ref), world) for ref in profile_refs]
    if len(engines) <= 1:
        return [on_engine(profile, engines[0] if engines else None) for profile in loaded]
    # The same profile on several engines: labelled NAME@ENGINE, side by side.
    return [
        on_engine(profile, engine).model_copy(update={"name": f"{profile.name}@{engine}"})
        for profile in loaded
        for engine in engines
    ]


def run_profiles(
    profiles: list[Profile],
    world: Scenario,
    runs: "int | AdaptiveDesign",
    warmup: int,
    screen: Console,
    reference: str,
    load: Load = ONE_AT_A_TIME,
    browsers: BrowserChoice = AS_PROFILED,
) -> tuple[list[Path], AutoStop | None]:
    """Run the profiles in turns; returns their results files. With `--runs auto`, until
    each profile is settled against `reference` (a label), and how that ended."""
    _check_sampled_alone(runs, load)
    profiles = [browsers.apply(profile) for profile in profiles]
    labels = unique_labels([profile.name for profile in profiles])
    plans = [
        browsers.placed(
            RunPlan(
                profile=profile,
                scenario=world,
                runs=max_runs(runs),
                warmup=warmup,
                results_path=reserve_default_path(label.replace("#", "-"), world.name),
                label=label,
                load=load,
                adaptive=isinstance(runs, AdaptiveDesign),
            )
        )
        for profile, label in zip(profiles, labels, strict=True)
    ]
    contrasts = [Contrast(label, reference) for label in labels if label != reference]
    return run_plans(plans, screen, contrasts, runs)


def _check_sampled_alone(runs: "int | AdaptiveDesign", load: Load) -> None:
    """--runs auto looks at the data between rounds, on the event loop the sessions are
    timed on: with sessions in flight its arithmetic would land inside their stages."""
    if isinstance(runs, AdaptiveDesign) and load != ONE_AT_A_TIME:
        raise ConfigError(
            "--runs auto runs one session at a time (its looks between rounds would be "
            "timed inside sessions in flight): with --concurrency or --arrival-rate, give "
            "--runs N"
        )


def max_runs(runs: "int | AdaptiveDesign") -> int:
    """What a plan's `runs` is: the count, or the most `--runs auto` may take."""
    return runs.max_runs if isinstance(runs, AdaptiveDesign) else runs


def run_plans(
    plans: list[RunPlan],
    screen: Console,
    contrasts: list[Contrast] | None = None,
    runs: "int | AdaptiveDesign | None" = None,
) -> tuple[list[Path], AutoStop | None]:
    """Run the plans' sessions in turns under one progress bar; returns their results files.

    With an adaptive `runs`, the rounds go on until every contrast is settled (or the most
    runs or the budget are spent), and a line per contrast says where it stood; that is
    returned too, for the exports."""
    sampling = ShiftSampling(contrasts or [], runs) if isinstance(runs, AdaptiveDesign) else None
    for plan in plans:
        check_results_file(plan.results_path, "results file")
    # The runner loads Playwright and the world's servers: imported only when sessions run,
    # so `compare a.json b.json` and `gate --results` start without them.
    from qrbench.measure.runner import run_interleaved

    before = _states([plan.results_path for plan in plans])
    try:
        with RichRunListener(screen, show_labels=True) as listener:
            run_until_signalled(run_interleaved(plans, listener, sampling=sampling))
    except Interrupted as exc:
        interrupted(exc, before)
    finally:
        for plan in plans:
            release(plan.results_path)  # a name reserved for a run that wrote nothing
    paths = [plan.results_path for plan in plans]
    if sampling is None:
        return paths, None
    stop = sampling.outcome()
    screen.print(auto_heading(stop), highlight=False)
    for line in shift_lines(stop):
        screen.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    return paths, stop


def measure_run(
    profile: Profile,
    scenario: Scenario,
    runs: "int | AdaptiveDesign",
    warmup: int,
    output: Path | None,
    screen: Console,
    *,
    keep_profiles: bool = False,
    load: Load = ONE_AT_A_TIME,
    browsers: BrowserChoice = AS_PROFILED,
    verbose: bool = False,
    thresholds: Thresholds | None = None,
    baseline_ms: Sequence[float] | None = None,
) -> RunOutcome:
    """Run sessions as `qrbench run` does: progress, the run's table, its results file;
    with `verbose`, the spans (the replica page's work, a traced gateway's); for a
    gateway, whether it sent any. With
    `--runs auto`, until the verdict against `thresholds` (default: the profile's target
    and `gate:` section) is settled, and with `baseline_ms` (a baseline's times to QR) the
    median's regression too; a line says how it stood."""
    _check_sampled_alone(runs, load)
    plan = browsers.placed(
        RunPlan(
            profile=browsers.apply(profile),
            scenario=scenario,
            runs=max_runs(runs),
            warmup=warmup,
            results_path=output or reserve_default_path(profile.name, scenario.name),
            keep_profiles=keep_profiles,
            load=load,
            adaptive=isinstance(runs, AdaptiveDesign),
        )
    )
    sampling = None
    if isinstance(runs, AdaptiveDesign):
        judged_by = thresholds or resolve_thresholds(
            ThresholdOverrides(target_ms=profile.target.deadline_s * 1000), profile
        )
        sampling = TargetSampling(plan.label or plan.profile.name, judged_by, runs, baseline_ms)
    check_results_file(plan.results_path, "results file" if output is None else "--output")
    from qrbench.measure.runner import run  # as in run_plans

    before = _states([plan.results_path])
    try:
        with RichRunListener(screen) as listener:
            outcome = run_until_signalled(run(plan, listener, sampling=sampling))
    except Interrupted as exc:
        interrupted(exc, before)
    finally:
        if output is None:
            release(plan.results_path)
    title = f"{profile.name} on {scenario.name}"
    if profile.engine is not EngineKind.MODEL:
        title += f" ({profile.engine})"
    if load.describe():
        title += f", {load.describe()}"
    title += f": {outcome.summary.measured} measured sessions"
    if warmup:
        title += f" ({warmup} warmup discarded)"
    print_run(screen, title, outcome.summary)
    if outcome.summary.auto_stop is not None:
        line = target_line(outcome.summary.auto_stop)
        screen.print(f"--runs auto: {escape(line)}", highlight=False, soft_wrap=True)
    _print_spans(screen, outcome, verbose=verbose, gateway=profile.engine is EngineKind.GATEWAY)
    screen.print(f"[dim]results written to {outcome.results_path}[/dim]")
    return outcome


def _print_spans(screen: Console, outcome: RunOutcome, *, verbose: bool, gateway: bool) -> None:
    rows = outcome.summary.spans
    if rows and verbose:
        screen.print()
        screen.print(spans_table(rows, screen.width))
    if gateway:
        kinds = sum(row.service != PAGE_SERVICE for row in rows)
        screen.print(f"[dim]{escape(spans_note(kinds, shown=verbose))}[/dim]")


_Format = TypeVar("_Format")


def exports_for(
    options: dict[str, tuple[_Format, str | None]],
) -> tuple[list[tuple[_Format, str]], Console]:
    """The exports asked for, by option name, and the console for the human-readable output.

    At most one export may take stdout; when one does, the tables go to stderr. Every
    file is checked now: a benchmark must not run for an export that cannot be written.
    """
    exports = [(exporter, where) for exporter, where in options.values() if where is not None]
    on_stdout = [option for option, (_, where) in options.items() if where == STDOUT]
    if len(on_stdout) > 1:
        # The options that asked for it, not every export the command has.
        *others, last = on_stdout
        raise ConfigError(f"only one of {', '.join(others)} and {last} can write to stdout ('-')")
    for option, (_, where) in options.items():
        if where is not None and where != STDOUT:
            check_writable(Path(where), option)
    return exports, errors if on_stdout else console


def run_exports(
    json_file: str | None, markdown_file: str | None, csv_file: str | None, html_file: str | None
) -> tuple[list[tuple[ModuleType, str]], Console]:
    """The exports of a single run (`run`, `baseline save`), checked before it starts."""
    return exports_for(
        {
            "--json": (json_export, json_file),
            "--markdown": (markdown_export, markdown_file),
            "--csv": (csv_export, csv_file),
            "--html": (html_export, html_file),
        }
    )


def write_run_exports(
    exports: list[tuple[ModuleType, str]], profile: Profile, scenario: Scenario, outcome: RunOutcome
) -> None:
    """Write the exports `run_exports` checked, of the run that finished."""
    for exporter, destination in exports:
        rendered = exporter.render_run(
            profile.name, scenario.name, outcome.results_path, outcome.summary
        )
        write(rendered, destination)
