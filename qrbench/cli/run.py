"""`qrbench run` and `qrbench serve`."""

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qrbench.cli.app import app, console
from qrbench.cli.flows import exports_for, measure_run
from qrbench.cli.options import (
    DEFAULT_PROFILE,
    DEFAULT_RUNS,
    DEFAULT_SCENARIO,
    DEFAULT_WARMUP,
    ArrivalRate,
    BrowserEndpoints,
    BrowserProviderOption,
    Concurrency,
    Engine,
    HtmlExport,
    ReplicaBind,
    Seed,
    browser_choice,
    load_of,
    on_engine,
    seeded,
)
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import DEFAULT_WEB_VERSION
from qrbench.errors import ConfigError, QrbenchError
from qrbench.measure.signals import Interrupted, run_until_signalled
from qrbench.report.export import html as html_export
from qrbench.report.export import json as json_export
from qrbench.report.export import write

if TYPE_CHECKING:
    from qrbench.world.replica.server import ReplicaUrls


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
        typer.Option(
            help="Results file.", show_default="results/<UTC time>-<profile>-<scenario>.json"
        ),
    ] = None,
    json_file: Annotated[
        str | None, typer.Option("--json", help="Also write the summary as JSON ('-': stdout).")
    ] = None,
    html_file: HtmlExport = None,
    keep_profiles: Annotated[
        bool, typer.Option(help="Keep the Chromium user-data dirs (and say where).")
    ] = False,
    engine: Engine = None,
    concurrency: Concurrency = None,
    arrival_rate: ArrivalRate = None,
    seed: Seed = None,
    browser_provider: BrowserProviderOption = None,
    browser_endpoint: BrowserEndpoints = None,
    replica_bind: ReplicaBind = None,
) -> None:
    """Time real headless Chromium sessions under one profile and print each stage.

    Each session launches Chromium with the profile's settings, loads the local
    WhatsApp Web replica (or target.url), waits for the login QR, encodes and verifies
    it. The results file is rewritten after every session, so Ctrl-C keeps what finished.
    Measured sessions run one at a time, --concurrency N at once, or arrive at
    --arrival-rate R per minute; warmup sessions run first, alone.

    \b
    Examples:
      qrbench run --profile optimized --runs 10
      qrbench run --profile optimized --engine whatsapp-web.js
      qrbench run --concurrency 4 --runs 20
      qrbench run --arrival-rate 30 --runs 20 --seed 7
      qrbench run --runs 10 --html report.html
      qrbench run --browser-provider cdp --browser-endpoint http://10.0.0.7:9222 \\
        --replica-bind 10.0.0.5
    """
    if deadline is not None and deadline <= 0:
        raise ConfigError(f"--deadline must be greater than 0 (got {deadline:g})")
    loaded = on_engine(load_profile(profile), engine)
    if deadline is not None:
        loaded = loaded.model_copy(
            update={"target": loaded.target.model_copy(update={"deadline_s": deadline})}
        )
    world = seeded(load_scenario(scenario), seed)
    load = load_of(concurrency, arrival_rate, seed, world)
    _, screen = exports_for(
        {"--json": (json_export, json_file), "--html": (html_export, html_file)}
    )
    browsers = browser_choice(browser_provider, browser_endpoint, replica_bind)
    outcome = measure_run(
        loaded,
        world,
        runs,
        warmup,
        output,
        screen,
        keep_profiles=keep_profiles,
        load=load,
        browsers=browsers,
    )
    if outcome.data_path is not None:
        screen.print(f"[dim]profiles kept in {outcome.data_path}[/dim]")
    if json_file is not None:
        write(
            json_export.render_run(loaded.name, world.name, outcome.results_path, outcome.summary),
            json_file,
        )
    if html_file is not None:
        write(
            html_export.render_run(loaded.name, world.name, outcome.results_path, outcome.summary),
            html_file,
        )
    if outcome.summary.measured and outcome.summary.succeeded == 0:
        raise QrbenchError(
            f"every session failed; see the failures above and {outcome.results_path}"
        )


@app.command()
def serve(
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="Scenario whose replica sizes to use.")
    ] = DEFAULT_SCENARIO,
    version: Annotated[str, typer.Option(help="WhatsApp Web version the replica serves.")] = (
        DEFAULT_WEB_VERSION
    ),
) -> None:
    """Serve the local WhatsApp Web replica for a person to open, until Ctrl-C."""
    # The replica's servers load only for this command (see cli/flows.py:run_plans).
    from qrbench.world.replica.server import Replica, ReplicaConfig

    world = load_scenario(scenario)
    config = ReplicaConfig(
        version=version, index_kb=world.replica.index_kb, bundle_kb=world.replica.bundle_kb
    )
    replica = Replica(config)
    urls = replica.start()
    try:
        # Announced from inside the signal-handled loop: a Ctrl-C that follows the URL is
        # the normal way to stop (exit 0), never a start-up interruption.
        run_until_signalled(_announce_and_wait(urls, version))
    except Interrupted:
        pass
    finally:
        replica.stop()


async def _announce_and_wait(urls: "ReplicaUrls", version: str) -> None:
    console.print(f"WhatsApp Web replica {version} on 127.0.0.1:")
    console.print(f"  open:          {urls.index_url_loopback}", soft_wrap=True)
    console.print("  (its certificate is made for this run: a browser asks you to accept it)")
    for name, address in urls.loopback.items():
        console.print(f"  {name:<26} -> {address}")
    # Quoted for a shell: a script (or whatsapp-web.js's puppeteer.args) can paste them.
    flags = " ".join(f"'{arg}'" for arg in urls.chromium_args())
    console.print(
        f"  in Chromium, the real names ({urls.whatsapp}) work with:\n    {flags}",
        soft_wrap=True,
        highlight=False,
    )
    console.print("Ctrl-C to stop.")
    await asyncio.Event().wait()
