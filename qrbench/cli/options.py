"""Defaults and Typer options the commands share."""

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from qrbench.cli.app import errors
from qrbench.config.models import Browser, BrowserProviderKind, EngineKind, Profile, Scenario
from qrbench.config.validation import describe
from qrbench.errors import ConfigError
from qrbench.measure.plan import Load, RunPlan

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

ENGINE_HELP = (
    "Who drives the browser to the QR: 'model' (qrbench's own model of a whatsapp-web.js "
    "client) or 'whatsapp-web.js' (the real library, run by Node; docs/engines.md)."
)

Engine = Annotated[
    EngineKind | None,
    typer.Option("--engine", help=ENGINE_HELP, show_default="the profile's engine: model"),
]


def on_engine(profile: Profile, engine: EngineKind | None) -> Profile:
    """`profile` driven by `engine`, when one was asked for."""
    return profile if engine is None else profile.model_copy(update={"engine": engine})


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
    typer.Option(
        help="Seed of the scenario's fault draws and of the --arrival-rate schedule "
        "[default: the scenario's faults.seed]."
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

    def given(self) -> list[str]:
        """The options given, by name (for commands that run no session)."""
        values = {
            "--browser-provider": self.provider,
            "--browser-endpoint": self.endpoints or None,
            "--replica-bind": self.replica_bind,
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
        if not update:
            return profile
        try:
            browser = Browser.model_validate({**profile.browser.model_dump(), **update})
        except ValidationError as error:
            options = " and ".join(o for o in self.given() if o != "--replica-bind")
            raise ConfigError(
                f"{options}: browser.{describe(error)} (profile {profile.name})"
            ) from None
        return profile.model_copy(update={"browser": browser})

    def placed(self, plan: RunPlan) -> RunPlan:
        """`plan` with the replica where --replica-bind put it."""
        if self.replica_bind is None:
            return plan
        return dataclasses.replace(plan, replica_bind=self.replica_bind)


AS_PROFILED = BrowserChoice()


def browser_choice(
    provider: BrowserProviderKind | None, endpoints: list[str] | None, replica_bind: str | None
) -> BrowserChoice:
    """The browser options given; a replica reachable from other machines is announced."""
    if replica_bind is not None and not _is_loopback(replica_bind):
        errors.print(
            f"[yellow]warning:[/yellow] the replica will listen on {escape(replica_bind)} "
            "(--replica-bind): anything that can reach this machine there can load it",
            highlight=False,
        )
    return BrowserChoice(provider, tuple(endpoints or ()), replica_bind)
