"""`qrbench run` and `qrbench serve`."""

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from qrbench.analysis.thresholds import parse_duration_ms
from qrbench.cli.app import app, console
from qrbench.cli.flows import measure_run, run_exports, write_run_exports
from qrbench.cli.options import (
    DEFAULT_PROFILE,
    DEFAULT_RUNS,
    DEFAULT_SCENARIO,
    DEFAULT_WARMUP,
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
    load_of,
    on_engine,
    on_world,
    run_count,
    seeded,
)
from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import DEFAULT_WEB_VERSION
from qrbench.errors import ConfigError, QrbenchError
from qrbench.measure.signals import Interrupted, run_until_signalled

if TYPE_CHECKING:
    from qrbench.world.replica.urls import ReplicaUrls


@app.command()
def run(
    profile: ProfileOption = DEFAULT_PROFILE,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    runs: Runs = str(DEFAULT_RUNS),
    max_runs: TargetMaxRuns = None,
    budget: BudgetOption = None,
    warmup: Warmup = DEFAULT_WARMUP,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="Time-to-QR every session must reach, e.g. 10s or 800ms; overrides the "
            "profile's target.deadline_s.",
            show_default="the profile's: 10s",
        ),
    ] = None,
    output: ResultsOutput = None,
    json_file: JsonExport = None,
    markdown_file: MarkdownExport = None,
    csv_file: CsvExport = None,
    html_file: HtmlExport = None,
    keep_profiles: Annotated[
        bool, typer.Option(help="Keep the Chromium user-data dirs (and say where).")
    ] = False,
    engine: Engine = None,
    world: WorldOption = None,
    concurrency: Concurrency = None,
    arrival_rate: ArrivalRate = None,
    seed: Seed = None,
    browser_provider: BrowserProviderOption = None,
    browser_endpoint: BrowserEndpoints = None,
    replica_bind: ReplicaBind = None,
    replica_port: ReplicaPort = None,
    receiver_bind: ReceiverBind = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also the spans, with the stages they start in: the replica page's work "
            "(keys, IndexedDB, workers, assets) and a traced gateway's own (OpenTelemetry).",
        ),
    ] = False,
) -> None:
    """Time real headless Chromium sessions under one profile and print each stage.

    Each session launches Chromium with the profile's settings, loads the local
    WhatsApp Web replica (or target.url), waits for the login QR, encodes and verifies
    it. The results file is rewritten after every session, so Ctrl-C keeps what finished.
    Measured sessions run one at a time, --concurrency N at once, or arrive at
    --arrival-rate R per minute; warmup sessions run first, alone. With --runs auto it
    stops when the verdict against the target (p95) and the success threshold is settled
    at 95 % confidence, or when the p95 is known within 10 % of the target: about 80
    sessions or more for a p95 under target, a handful for one far over it.

    \b
    Examples:
      qrbench run --profile optimized --runs 10
      qrbench run --profile optimized --runs auto --budget 5m
      qrbench run --profile optimized --engine whatsapp-web.js
      qrbench run --profile optimized --engine whatsapp-web.js --world live
      qrbench run --concurrency 4 --runs 20
      qrbench run --arrival-rate 30 --runs 20 --seed 7
      qrbench run --runs 10 --target 5s --html report.html
      qrbench run --json - | jq .summary.verdict
      qrbench run --browser-provider cdp --browser-endpoint http://10.0.0.7:9222 \\
        --replica-bind 10.0.0.5
    """
    count = run_count(runs, max_runs, budget, None, default_max=TARGET_MAX_RUNS)
    loaded = on_world(on_engine(load_profile(profile), engine), world)
    if target is not None:
        deadline_s = parse_duration_ms(target, "--target") / 1000
        loaded = loaded.model_copy(
            update={"target": loaded.target.model_copy(update={"deadline_s": deadline_s})}
        )
    world = seeded(load_scenario(scenario), seed)
    load = load_of(concurrency, arrival_rate, seed, world)
    exports, screen = run_exports(json_file, markdown_file, csv_file, html_file)
    browsers = browser_choice(
        browser_provider, browser_endpoint, replica_bind, replica_port, receiver_bind
    )
    outcome = measure_run(
        loaded,
        world,
        count,
        warmup,
        output,
        screen,
        keep_profiles=keep_profiles,
        load=load,
        browsers=browsers,
        verbose=verbose,
    )
    if outcome.data_path is not None:
        screen.print(f"[dim]profiles kept in {outcome.data_path}[/dim]")
    write_run_exports(exports, loaded, world, outcome)
    if outcome.summary.measured and outcome.summary.succeeded == 0:
        raise QrbenchError(
            f"every session failed; see the failures above and {outcome.results_path}"
        )


@app.command()
def serve(
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    version: Annotated[
        str,
        typer.Option(
            "--web-version", metavar="VERSION", help="WhatsApp Web version the replica serves."
        ),
    ] = DEFAULT_WEB_VERSION,
    replica_port: ReplicaPort = None,
    replica_bind: ReplicaBind = None,
    print_args: Annotated[
        bool,
        typer.Option(
            "--args",
            help="Print only the Chromium flags for the replica at --replica-port, one per "
            "line, and exit: for a browser started before the runs that use it.",
        ),
    ] = False,
    args_profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME|PATH",
            help="With --args: print this profile's browser.args (and qrbench's own) "
            "before the replica's, as qrbench would launch its Chromium.",
        ),
    ] = None,
) -> None:
    """Serve the local WhatsApp Web replica for a person to open, until Ctrl-C.

    It prints the URL to open and the Chromium flags that send WhatsApp's real host names
    to it; the scenario sets the page and bundle sizes. With --replica-port the replica
    listens at that port and the two after it with a certificate kept between runs
    ($QRBENCH_STATE_DIR), so the same flags serve a long-lived remote Chromium in every
    run given the same --replica-port.

    \b
    Examples:
      qrbench serve
      qrbench serve --scenario typical --web-version 2.3000.1
      mapfile -t flags < <(qrbench serve --replica-port 9443 --args -p optimized)
      chromium --headless --remote-debugging-port=9222 --user-data-dir=/tmp/cdp "${flags[@]}" &
      qrbench run --engine whatsapp-web.js --browser-provider cdp \\
        --browser-endpoint http://127.0.0.1:9222 --replica-port 9443
    """
    # The replica's servers load only for this command (see cli/flows.py:run_plans).
    from qrbench.browsers.local import launch_args
    from qrbench.world.loopback import BIND_ADDRESS
    from qrbench.world.replica.server import Replica, ReplicaConfig
    from qrbench.world.replica.tls import kept_certificate
    from qrbench.world.replica.urls import TLS_HOSTS, ReplicaUrls

    bind_address = browser_choice(None, None, replica_bind).replica_bind or BIND_ADDRESS
    if print_args:
        if replica_port is None:
            raise ConfigError(
                "--args needs --replica-port: a replica on ephemeral ports has flags only "
                "while it runs (plain `qrbench serve` prints them)"
            )
        spki = kept_certificate(list(TLS_HOSTS)).spki_sha256
        flags = ReplicaUrls.at_port(bind_address, replica_port, spki).chromium_args()
        if args_profile is not None:
            flags = launch_args(load_profile(args_profile).browser, flags)
        for flag in flags:
            print(flag)
        return
    world = load_scenario(scenario)
    config = ReplicaConfig(
        version=version,
        index_kb=world.replica.index_kb,
        bundle_kb=world.replica.bundle_kb,
        page=world.replica.page,
        bind_address=bind_address,
        port=replica_port,
    )
    replica = Replica(config)
    urls = replica.start()
    try:
        # Announced from inside the signal-handled loop: a Ctrl-C that follows the URL is
        # the normal way to stop (exit 0), never a start-up interruption.
        run_until_signalled(_announce_and_wait(urls, version, kept=replica_port is not None))
    except Interrupted:
        pass
    finally:
        replica.stop()


async def _announce_and_wait(urls: "ReplicaUrls", version: str, *, kept: bool) -> None:
    console.print(f"WhatsApp Web replica {version}:")
    console.print(f"  open:          {urls.index_url_loopback}", soft_wrap=True)
    lifetime = "kept between runs" if kept else "made for this run"
    console.print(f"  (its certificate is {lifetime}: a browser asks you to accept it)")
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
