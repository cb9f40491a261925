"""Defaults and Typer options the commands share."""

from typing import Annotated

import typer

from qrbench.config.models import Scenario
from qrbench.errors import ConfigError
from qrbench.measure.plan import Load

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"

DEFAULT_PROFILE = "optimized"

DEFAULT_SCENARIO = "lan"

DEFAULT_RUNS = 5

DEFAULT_WARMUP = 1

# The export options several commands share.
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

# Every measuring command's; `qrbench report FILE...` writes the same from files.
HtmlExport = Annotated[
    str | None,
    typer.Option(
        "--html",
        metavar="FILE|-",
        help="Also write a self-contained HTML report with charts (stage waterfalls, "
        "per-stage distributions, the time-to-QR ECDF); '-': stdout. See docs/report.md.",
    ),
]

# The load options of every command that measures (`explain` runs one session at a time).
Concurrency = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Measured sessions in flight at once (closed loop: each one that finishes "
        "starts the next) [default: 1]. Warmup sessions run first, one at a time.",
    ),
]

ArrivalRate = Annotated[
    float | None,
    typer.Option(
        "--arrival-rate",
        help="Start measured sessions at this many per minute on a seeded Poisson schedule, "
        "whether or not earlier ones finished (open loop), instead of --concurrency.",
    ),
]

Seed = Annotated[
    int | None,
    typer.Option(help="Seed of the --arrival-rate schedule [default: the scenario's faults.seed]."),
]


def load_of(
    concurrency: int | None, arrival_rate: float | None, seed: int | None, scenario: Scenario
) -> Load:
    """The load the options ask for; a contradiction or an unusable rate is a ConfigError."""
    if arrival_rate is None:
        if seed is not None:
            raise ConfigError("--seed: only with --arrival-rate (it seeds the arrival schedule)")
        return Load(concurrency=concurrency or 1)
    if concurrency is not None:
        raise ConfigError("--concurrency and --arrival-rate: give one or the other")
    # `not >` also refuses nan.
    if not arrival_rate > 0 or arrival_rate == float("inf"):
        raise ConfigError(
            f"--arrival-rate must be a number of sessions per minute above 0 (got {arrival_rate:g})"
        )
    return Load(
        arrival_rate_per_min=arrival_rate,
        seed=scenario.faults.seed if seed is None else seed,
    )
