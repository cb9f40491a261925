"""Defaults and Typer options the commands share."""

import dataclasses
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from qrbench.analysis.thresholds import parse_duration_ms
from qrbench.cli.app import errors
from qrbench.config.load import Load
from qrbench.config.models import (
    Browser,
    BrowserProviderKind,
    EngineKind,
    Profile,
    Scenario,
    World,
)
from qrbench.config.validation import describe
from qrbench.errors import ConfigError
from qrbench.measure.plan import RunPlan
from qrbench.measure.sampling import AdaptiveDesign

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"

DEFAULT_PROFILE = "optimized"

DEFAULT_SCENARIO = "lan"

DEFAULT_RUNS = 5

DEFAULT_WARMUP = 1

# `--runs auto`'s most runs a side: in benchmarks/sequential_design.py a 100 ms
# difference on `typical`'s spread settles in a mean of ~30, and 60 leaves room for the
# slow tail of that distribution.
AUTO = "auto"
COMPARE_MAX_RUNS = 60
# Settling a p95 from above takes ~80 sessions at 95 % (analysis/sequential.py).
TARGET_MAX_RUNS = 300

# What to run, on every command that measures: one definition each, so a name means one
# thing everywhere (compare and explain run several profiles: "per profile" there).
ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME|PATH",
        help="Profile: a name (profiles/NAME.yaml here, then shipped) or a YAML path.",
    ),
]

ScenarioOption = Annotated[
    str,
    typer.Option(
        "--scenario",
        "-s",
        metavar="NAME|PATH",
        help="Scenario, the world the sessions run in: a name or a YAML path.",
    ),
]

Runs = Annotated[
    str,
    typer.Option(
        "--runs",
        "-n",
        metavar="N|auto",
        help="Measured sessions (per profile, or variant, when several run), or 'auto': "
        "as many as the question needs.",
    ),
]


def _max_runs(default: int) -> object:
    return Annotated[
        int | None,
        typer.Option(
            "--max-runs",
            metavar="N",
            help="With --runs auto: the most sessions per profile.",
            show_default=str(default),
        ),
    ]


TargetMaxRuns = _max_runs(TARGET_MAX_RUNS)
CompareMaxRuns = _max_runs(COMPARE_MAX_RUNS)

BudgetOption = Annotated[
    str | None,
    typer.Option(
        "--budget",
        metavar="DURATION",
        help="With --runs auto: stop before this much wall time is spent, settled or not, "
        "e.g. 10m or 90s.",
        show_default="none",
    ),
]

COMPARE_MARGIN_MS = 50.0
# explain's question is which knobs matter: the study's table lists nothing under 100 ms.
EXPLAIN_MARGIN_MS = 100.0


def _margin(default_ms: float) -> object:
    return Annotated[
        str | None,
        typer.Option(
            "--margin",
            metavar="DURATION",
            help="With --runs auto: a time-to-QR difference smaller than this counts as "
            "none; one shown within it stops as 'equivalent'.",
            show_default=f"{default_ms:g}ms",
        ),
    ]


CompareMargin = _margin(COMPARE_MARGIN_MS)
ExplainMargin = _margin(EXPLAIN_MARGIN_MS)


def run_count(
    runs: str,
    max_runs: int | None,
    budget: str | None,
    margin: str | None,
    *,
    default_max: int,
    default_margin_ms: float = COMPARE_MARGIN_MS,
) -> "int | AdaptiveDesign":
    """`--runs N` as N, `--runs auto` as its design; raises ConfigError naming the option."""
    if runs.strip().lower() != AUTO:
        given = [
            option
            for option, value in (
                ("--max-runs", max_runs),
                ("--budget", budget),
                ("--margin", margin),
            )
            if value is not None
        ]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --runs auto")
        try:
            count = int(runs)
        except ValueError:
            raise ConfigError(
                f"--runs: expected a number of sessions or 'auto' (got {runs!r})"
            ) from None
        if count < 1:
            raise ConfigError(f"--runs: must be at least 1 (got {count})")
        return count
    return AdaptiveDesign(
        max_runs=default_max if max_runs is None else max_runs,
        budget_s=None if budget is None else parse_duration_ms(budget, "--budget") / 1000,
        margin_ms=default_margin_ms if margin is None else parse_duration_ms(margin, "--margin"),
    )


Warmup = Annotated[
    int,
    typer.Option(
        "--warmup",
        "-w",
        min=0,
        metavar="N",
        help="Sessions run first and left out of the statistics (kept in the file, flagged).",
    ),
]

# The results file a measuring command writes; the one `gate` reads is `--results`.
ResultsOutput = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Results file to write.",
        show_default="results/<UTC time>-<profile>-<scenario>.json",
    ),
]

# The exports, each FILE or '-' (stdout; the tables then go to stderr).
JsonExport = Annotated[
    str | None,
    typer.Option("--json", metavar="FILE|-", help="Also write the result as JSON ('-': stdout)."),
]

MarkdownExport = Annotated[
    str | None,
    typer.Option(
        "--markdown",
        metavar="FILE|-",
        help="Also write GitHub-flavoured Markdown ('-': stdout), e.g. $GITHUB_STEP_SUMMARY.",
    ),
]

CsvExport = Annotated[
    str | None,
    typer.Option(
        "--csv", metavar="FILE|-", help="Also write one CSV row per metric ('-': stdout)."
    ),
]

JunitExport = Annotated[
    str | None,
    typer.Option(
        "--junit", metavar="FILE|-", help="Write JUnit XML, one testcase per check ('-': stdout)."
    ),
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


def given_on_command_line(ctx: typer.Context, names: list[str]) -> list[str]:
    """The options among `names` (parameter names) the user gave, as they are spelled.

    By where the value came from, not by its value: `--runs 5` is given although 5 is the
    default. (The source's enum lives in Typer's private copy of Click: matched by name.)
    """
    given = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name) if param.name in names else None
        if source is not None and source.name != "DEFAULT":
            given.append(param.opts[0])
    return given


ENGINE_METAVAR = "model|whatsapp-web.js"

ENGINE_HELP = (
    "Who drives the browser to the QR: 'model' (qrbench's own model of a whatsapp-web.js "
    "client) or 'whatsapp-web.js' (the real library, run by Node; docs/engines.md)."
)

Engine = Annotated[
    EngineKind | None,
    typer.Option(
        "--engine",
        metavar=ENGINE_METAVAR,
        help=ENGINE_HELP,
        show_default="the profile's engine: model",
    ),
]


WorldOption = Annotated[
    World | None,
    typer.Option(
        "--world",
        metavar="replica|live",
        help="What the sessions reach: 'replica' (qrbench's local WhatsApp Web, no network "
        "needed) or 'live' (the real web.whatsapp.com; engines whatsapp-web.js and gateway; "
        "checked before the first session, docs/live.md).",
        show_default="the profile's world: replica",
    ),
]


def on_world(profile: Profile, world: World | None) -> Profile:
    """`profile` in `world`, when one was asked for."""
    return profile if world is None else profile.model_copy(update={"world": world})


def on_engine(profile: Profile, engine: EngineKind | None) -> Profile:
    """`profile` driven by `engine`, when one was asked for."""
    return profile if engine is None else profile.model_copy(update={"engine": engine})


# The load options of every command that measures (`explain` runs one session at a time).
Concurrency = Annotated[
    int | None,
    typer.Option(
        min=1,
        metavar="N",
        help="Measured sessions in flight at once (closed loop: each one that finishes "
        "starts the next). Warmup sessions run first, one at a time.",
        show_default="1",
    ),
]

ArrivalRate = Annotated[
    float | None,
    typer.Option(
        "--arrival-rate",
        metavar="PER_MIN",
        help="Start measured sessions at this many per minute on a seeded Poisson schedule, "
        "whether or not earlier ones finished (open loop), instead of --concurrency.",
    ),
]

Seed = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Seed of the scenario's fault draws and of the --arrival-rate schedule.",
        show_default="the scenario's faults.seed",
    ),
]


def seeded(scenario: Scenario, seed: int | None) -> Scenario:
    """`scenario` with its fault draws seeded by --seed, when given."""
    if seed is None:
        return scenario
    faults = scenario.faults.model_copy(update={"seed": seed})
    return scenario.model_copy(update={"faults": faults})


def load_of(
    concurrency: int | None, arrival_rate: float | None, seed: int | None, scenario: Scenario
) -> Load:
    """The load the options ask for; a contradiction or an unusable rate is a ConfigError."""
    if arrival_rate is None:
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


# Where the sessions' browsers come from, and where the replica listens for them
# (docs/browsers.md); on every command that measures.
BrowserProviderOption = Annotated[
    BrowserProviderKind | None,
    typer.Option(
        "--browser-provider",
        metavar="local|playwright|cdp",
        help="Where sessions' browsers come from, instead of the profile's browser.provider: "
        "local (launched here), playwright (a Playwright server's ws:// URL) or cdp (a "
        "DevTools URL).",
    ),
]

BrowserEndpoints = Annotated[
    list[str] | None,
    typer.Option(
        "--browser-endpoint",
        metavar="URL",
        help="A remote browser's URL, instead of the profile's browser.endpoints; repeat "
        "it for several, used round-robin, one per session.",
    ),
]

ReplicaBind = Annotated[
    str | None,
    typer.Option(
        "--replica-bind",
        metavar="ADDRESS",
        show_default="127.0.0.1",
        help="The address the replica listens on, so browsers on other machines reach it. "
        "Any other than loopback is announced with a warning.",
    ),
]

ReceiverBind = Annotated[
    str | None,
    typer.Option(
        "--receiver-bind",
        metavar="ADDRESS",
        show_default="127.0.0.1",
        help="The address qrbench's webhook receiver listens on, so a gateway on another "
        "machine can post to it ({webhook_url} names it). Any other than loopback is "
        "announced with a warning.",
    ),
]


ReplicaPort = Annotated[
    int | None,
    typer.Option(
        "--replica-port",
        metavar="PORT",
        help="Serve the replica at PORT and the two ports after it, with a certificate kept "
        "between runs, for remote browsers started with `qrbench serve --replica-port PORT "
        "--args`; instead of the profile's browser.replica_port.",
    ),
]


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may name any interface
        return False


@dataclass(frozen=True)
class BrowserChoice:
    """The browser options given on the command line; nothing given changes nothing."""

    provider: BrowserProviderKind | None = None
    endpoints: tuple[str, ...] = ()
    replica_bind: str | None = None
    replica_port: int | None = None
    receiver_bind: str | None = None

    def given(self) -> list[str]:
        """The options given, by name (for commands that run no session)."""
        values = {
            "--browser-provider": self.provider,
            "--browser-endpoint": self.endpoints or None,
            "--replica-bind": self.replica_bind,
            "--replica-port": self.replica_port,
            "--receiver-bind": self.receiver_bind,
        }
        return [option for option, value in values.items() if value is not None]

    def apply(self, profile: Profile) -> Profile:
        """`profile` with the provider and endpoints given; a misfit is a ConfigError."""
        update: dict[str, object] = {}
        if self.provider is not None:
            update["provider"] = self.provider
            # The profile's endpoints belong to its own provider, not to one given here.
            update["endpoints"] = list(self.endpoints)
        elif self.endpoints:
            update["endpoints"] = list(self.endpoints)
        if self.replica_port is not None:
            update["replica_port"] = self.replica_port
        if not update:
            return profile
        try:
            browser = Browser.model_validate({**profile.browser.model_dump(), **update})
        except ValidationError as error:
            binds = ("--replica-bind", "--receiver-bind")
            options = " and ".join(o for o in self.given() if o not in binds)
            raise ConfigError(
                f"{options}: browser.{describe(error)} (profile {profile.name})"
            ) from None
        return profile.model_copy(update={"browser": browser})

    def placed(self, plan: RunPlan) -> RunPlan:
        """`plan` with the replica and the receiver where --replica-bind and
        --receiver-bind put them."""
        if self.replica_bind is not None:
            plan = dataclasses.replace(plan, replica_bind=self.replica_bind)
        if self.receiver_bind is not None:
            plan = dataclasses.replace(plan, receiver_bind=self.receiver_bind)
        return plan


AS_PROFILED = BrowserChoice()


def browser_choice(
    provider: BrowserProviderKind | None,
    endpoints: list[str] | None,
    replica_bind: str | None,
    replica_port: int | None = None,
    receiver_bind: str | None = None,
) -> BrowserChoice:
    """The browser options given; a replica or a receiver reachable from other machines
    is announced."""
    if replica_bind is not None and not _is_loopback(replica_bind):
        errors.print(
            f"[yellow]warning:[/yellow] the replica will listen on {escape(replica_bind)} "
            "(--replica-bind): anything that can reach this machine there can load it",
            highlight=False,
        )
    if receiver_bind is not None and not _is_loopback(receiver_bind):
        errors.print(
            f"[yellow]warning:[/yellow] the webhook receiver will listen on "
            f"{escape(receiver_bind)} (--receiver-bind): anything that can reach this machine "
            "there can post to it",
            highlight=False,
        )
    return BrowserChoice(
        provider, tuple(endpoints or ()), replica_bind, replica_port, receiver_bind
    )
