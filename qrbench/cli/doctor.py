"""`qrbench doctor`: can this machine run what the profile asks?"""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from qrbench.cli.app import app, console
from qrbench.cli.options import (
    DEFAULT_PROFILE,
    DEFAULT_SCENARIO,
    BrowserEndpoints,
    BrowserProviderOption,
    Engine,
    ProfileOption,
    ReplicaBind,
    ReplicaPort,
    ScenarioOption,
    browser_choice,
    on_engine,
)
from qrbench.config.loader import load_profile, load_scenario
from qrbench.world.loopback import BIND_ADDRESS

# `run` and `doctor` share it: an environment that cannot run the profile.
NOT_READY_EXIT = 3


@app.command()
def doctor(
    profile: ProfileOption = DEFAULT_PROFILE,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    engine: Engine = None,
    browser_provider: BrowserProviderOption = None,
    browser_endpoint: BrowserEndpoints = None,
    replica_bind: ReplicaBind = None,
    replica_port: ReplicaPort = None,
    live: Annotated[
        bool,
        typer.Option(help="Also check that the real web.whatsapp.com resolves and answers."),
    ] = False,
) -> None:
    """Say whether this machine can run the profile, and the fix for each no.

    Checks Chromium (found, its version, and a real launch with the profile's args, whose
    memory is measured), /dev/shm, Node and npm with the whatsapp-web.js modules, redis-
    server, free memory and how many sessions of the measured size fit, CPU and load,
    loopback ports, and the remote browser endpoints the profile names. Only what the
    profile needs decides the exit code: 0 ready, 3 not (with the fix), 2 a bad profile.
    `run` and `capacity` make the same checks before their first session.

    \b
    Examples:
      qrbench doctor
      qrbench doctor --profile new --engine whatsapp-web.js
      qrbench doctor --live
    """
    from qrbench.measure.doctor import diagnose
    from qrbench.report.console.doctor import print_diagnosis

    browsers = browser_choice(browser_provider, browser_endpoint, replica_bind, replica_port)
    loaded = browsers.apply(on_engine(load_profile(profile), engine))
    diagnosis = asyncio.run(
        diagnose(
            loaded,
            load_scenario(scenario),
            replica_bind=replica_bind or BIND_ADDRESS,
            live=live,
            results_dir=Path("results"),
        )
    )
    print_diagnosis(console, diagnosis)
    if not diagnosis.ready:
        raise typer.Exit(NOT_READY_EXIT)
