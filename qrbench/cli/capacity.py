"""`qrbench capacity`, and the capacity floor `qrbench gate --min-capacity` holds."""

import math
import time
from pathlib import Path
from typing import Annotated

import typer

from qrbench.analysis.capacity import (
    DEFAULT_HEADROOM_PERCENT,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_SESSIONS_PER_STEP,
    MIN_SESSIONS_PER_STEP,
    CapacityCheck,
)
from qrbench.analysis.summary import Verdict
from qrbench.analysis.thresholds import parse_overrides, parse_percent, resolve_thresholds
from qrbench.capacity_results import read_capacity
from qrbench.cli.app import app, console, errors
from qrbench.cli.flows import file_state
from qrbench.cli.options import (
    DEFAULT_PROFILE,
    DEFAULT_SCENARIO,
    DEFAULT_WARMUP,
    Engine,
    ProfileOption,
    ScenarioOption,
    Warmup,
    load_of,
    on_engine,
)
from qrbench.config.load import Load
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import Scenario
from qrbench.errors import ConfigError, QrbenchError
from qrbench.measure.signals import Interrupted, run_until_signalled
from qrbench.outputs import check_results_file
from qrbench.report.console.capacity import print_capacity, print_capacity_gate
from qrbench.report.wording.capacity import knee_sentence, refusal, stop_sentence
from qrbench.results import ResultsError, RunStatus, default_path


def _numbers(text: str, option: str) -> list[float]:
    values = []
    for item in text.split(","):
        try:
            value = float(item.strip())
        except ValueError:
            raise ConfigError(
                f"{option}: expected numbers separated by commas (got {text!r})"
            ) from None
        # `not >` also refuses nan.
        if not value > 0 or math.isinf(value):
            raise ConfigError(f"{option}: every step must be a number above 0 (got {item.strip()})")
        values.append(value)
    return values


def ramp_steps(
    steps: str | None,
    arrival_rates: str | None,
    max_concurrency: int | None,
    seed: int | None,
    scenario: Scenario,
) -> tuple[Load, ...]:
    """The loads asked for: --steps, --arrival-rates, or 1, 2, 4 ... up to --max-concurrency."""
    if steps is not None and arrival_rates is not None:
        raise ConfigError("--steps and --arrival-rates: give one or the other")
    if max_concurrency is not None and (steps is not None or arrival_rates is not None):
        raise ConfigError(
            "--max-concurrency: only for the default ramp (1, 2, 4 ...), not with "
            "--steps or --arrival-rates, whose last step is the limit"
        )
    if seed is not None and arrival_rates is None:
        raise ConfigError("--seed: only with --arrival-rates (it seeds the arrival schedule)")
    if arrival_rates is not None:
        rates = _numbers(arrival_rates, "--arrival-rates")
        return tuple(load_of(None, rate, seed, scenario) for rate in rates)
    if steps is not None:
        sizes = _numbers(steps, "--steps")
        if any(size != int(size) for size in sizes):
            raise ConfigError(f"--steps: sessions in flight are whole numbers (got {steps})")
        return tuple(Load(concurrency=int(size)) for size in sizes)
    limit = DEFAULT_MAX_CONCURRENCY if max_concurrency is None else max_concurrency
    doubling = [2**power for power in range(limit.bit_length()) if 2**power <= limit]
    if doubling[-1] != limit:
        doubling.append(limit)
    return tuple(Load(concurrency=size) for size in doubling)


@app.command()
def capacity(
    profile: ProfileOption = DEFAULT_PROFILE,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    steps: Annotated[
        str | None,
        typer.Option(
            metavar="N,N,...",
            help="Sessions in flight at each step, increasing, e.g. 1,2,4,8.",
            show_default="1,2,4... until the criterion breaks or memory runs short",
        ),
    ] = None,
    arrival_rates: Annotated[
        str | None,
        typer.Option(
            "--arrival-rates",
            metavar="R,R,...",
            help="Ramp arrival rates (sessions per minute, open loop) instead, e.g. 10,20,40.",
        ),
    ] = None,
    max_concurrency: Annotated[
        int | None,
        typer.Option(
            "--max-concurrency",
            metavar="N",
            min=1,
            help="Last step of the default ramp; refused up front when it cannot fit in memory.",
        ),
    ] = None,
    sessions_per_step: Annotated[
        int,
        typer.Option(
            "--sessions-per-step",
            metavar="N",
            help=f"Measured sessions at each step (at least {MIN_SESSIONS_PER_STEP}); a step of "
            "more in flight runs as many as it has in flight.",
        ),
    ] = DEFAULT_SESSIONS_PER_STEP,
    warmup: Warmup = DEFAULT_WARMUP,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="A step meets the criterion when its p95 time-to-QR is at most this "
            "(default: the profile's gate.target_s, else its target.deadline_s).",
        ),
    ] = None,
    min_success: Annotated[
        str | None,
        typer.Option(
            "--min-success",
            metavar="PERCENT",
            help="... and at least this share of its sessions showed a QR "
            "(default: gate.min_success_percent, 98%).",
        ),
    ] = None,
    headroom: Annotated[
        str,
        typer.Option(
            metavar="PERCENT",
            help="Share of the machine's memory kept free: a step that would need it is not "
            "started, a step that reaches it is stopped.",
        ),
    ] = f"{DEFAULT_HEADROOM_PERCENT:g}%",
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Seed of the --arrival-rates schedules.",
            show_default="the scenario's faults.seed",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Capacity results file; each step's sessions go to a folder of the same name.",
            show_default="results/<UTC time>-<profile>-<scenario>-capacity.json",
        ),
    ] = None,
    engine: Engine = None,
) -> None:
    """How many logins at once one machine holds: ramp the load until the criterion breaks.

    Runs --sessions-per-step sessions at each step (1, 2, 4, 8 ... in flight by default)
    and stops at the first step whose p95 time-to-QR is over the target or whose success
    is below 98 %, when the next step would not fit in memory above --headroom, or when a
    step makes the machine swap (that step is stopped at once). Per step: p50 and p95 with
    95 % CIs, success, CPU, the Chromium trees' memory (RSS, PSS) and memory per session.
    The knee is the largest step that met the criterion. Ctrl-C keeps the finished steps.

    \b
    Examples:
      qrbench capacity --profile optimized --scenario lan
      qrbench capacity --steps 1,2,3,4 --sessions-per-step 30
      qrbench capacity --arrival-rates 20,40,80 --seed 7
      qrbench capacity --engine whatsapp-web.js --steps 1,2,4
      qrbench gate --capacity-results results/...-capacity.json --min-capacity 4
    """
    loaded, world = on_engine(load_profile(profile), engine), load_scenario(scenario)
    loads = ramp_steps(steps, arrival_rates, max_concurrency, seed, world)
    overrides = parse_overrides(
        target=target, percentile=None, min_success=min_success, max_regression=None
    )
    headroom_percent = parse_percent(headroom, "--headroom", low=0, high=90)
    # The core loads Playwright: only once the options are known to be good.
    from qrbench.measure.capacity import (
        CapacityPlan,
        LocalMachine,
        check_plan,
        largest_step_estimate,
        ramp,
    )

    plan = CapacityPlan(
        profile=loaded,
        scenario=world,
        steps=loads,
        sessions_per_step=sessions_per_step,
        warmup=warmup,
        thresholds=resolve_thresholds(overrides, loaded),
        headroom_percent=headroom_percent,
        results_path=output or default_path(loaded.name, f"{world.name}-capacity"),
    )
    check_plan(plan)
    asked_for = steps is not None or arrival_rates is not None or max_concurrency is not None
    if asked_for:
        # A limit the user chose is refused now; the default ramp stops where memory does.
        estimate = largest_step_estimate(plan, LocalMachine())
        if not estimate.fits:
            raise ConfigError(refusal(estimate, headroom_percent))
    check_results_file(plan.results_path, "--output" if output else "capacity results file")
    check_results_file(plan.step_path(1), "step results file")
    from qrbench.report.console.capacity import RichCapacityListener

    before = file_state(plan.results_path)
    started = time.monotonic()
    try:
        with RichCapacityListener(console) as listener:
            outcome = run_until_signalled(ramp(plan, listener))
    except Interrupted as exc:
        kept = (
            f"finished steps are kept in {plan.results_path}"
            if file_state(plan.results_path) not in (None, before)
            else "no step finished, so no capacity file was written"
        )
        errors.print(f"qrbench: interrupted ({exc.signal_name}); {kept}", highlight=False)
        raise typer.Exit(130) from None
    title = f"Capacity: {loaded.name} on {world.name}"
    print_capacity(
        console,
        title,
        outcome.steps,
        stop_sentence(outcome.stop, outcome.steps, headroom_percent),
        knee_sentence(outcome.knee),
        time.monotonic() - started,
    )
    console.print(f"[dim]results written to {outcome.results_path}[/dim]")
    measured = [step for step in outcome.steps if step.judgement.sessions]
    if measured and all(step.judgement.succeeded == 0 for step in measured):
        raise QrbenchError(f"every session failed; see the failures above and {plan.results_path}")


def gate_capacity(
    results_file: Path | None, min_capacity: float | None, other_options: list[str]
) -> None:
    """`gate --capacity-results FILE --min-capacity N`: exit 1 when the knee is below N.

    `other_options` are the gate's other options given with it: refused, as they judge runs.
    """
    if results_file is None or min_capacity is None:
        raise ConfigError("--capacity-results and --min-capacity: give both")
    if other_options:
        raise ConfigError(
            f"{', '.join(other_options)}: not with --capacity-results (it judges a capacity "
            "ramp's knee only)"
        )
    # `not >` also refuses nan.
    if not min_capacity > 0 or math.isinf(min_capacity):
        raise ConfigError(f"--min-capacity must be a number above 0 (got {min_capacity:g})")
    saved = read_capacity(results_file)
    if saved.status is not RunStatus.COMPLETE:
        raise ResultsError(
            f"{results_file}: the ramp {saved.status.value} after {saved.steps} steps; "
            "the gate judges complete ramps only"
        )
    check = CapacityCheck(min_capacity=min_capacity, knee=saved.knee)
    console.print(f"[dim]capacity results: {results_file}[/dim]", highlight=False)
    print_capacity_gate(console, check)
    if check.status is Verdict.FAIL:
        raise typer.Exit(1)
