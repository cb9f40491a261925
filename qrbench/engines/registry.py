"""Which engine a profile runs on, what it needs, and how results name it."""

import subprocess
from typing import assert_never

from qrbench.config.models import EngineKind, Profile, Scenario, World
from qrbench.engines.base import EngineFactory
from qrbench.engines.gateway.checks import check_gateway_profile
from qrbench.engines.gateway.engine import GatewayEngine
from qrbench.engines.model.engine import ModelEngine
from qrbench.engines.wwebjs import install, options
from qrbench.engines.wwebjs.engine import WwebjsEngine
from qrbench.errors import ConfigError


def engine_for(kind: EngineKind) -> EngineFactory:
    match kind:
        case EngineKind.MODEL:
            return ModelEngine
        case EngineKind.WWEBJS:
            return WwebjsEngine
        case EngineKind.GATEWAY:
            return GatewayEngine
        case _:
            assert_never(kind)


def check_engine(profile: Profile, scenario: Scenario) -> None:
    """Before any session: EnvironmentProblem (exit 3) when the engine cannot run here,
    ConfigError (exit 2) when it cannot honour the profile or scenario."""
    match profile.engine:
        case EngineKind.MODEL if profile.world is World.LIVE:
            raise ConfigError(
                f"profile {profile.name}: world live needs a real client: the model engine "
                "is qrbench's model of whatsapp-web.js against its own replica page, whose "
                "modules it reads; the real WhatsApp Web runs only the real library "
                "(--engine whatsapp-web.js, or --engine gateway with your service)"
            )
        case EngineKind.MODEL:
            return
        case EngineKind.WWEBJS:
            install.check_installed()
            options.check_profile(profile, scenario)
        case EngineKind.GATEWAY:
            check_gateway_profile(profile, scenario)
        case _:
            assert_never(profile.engine)


def describe_engine(kind: EngineKind) -> dict[str, str]:
    """The engine and its versions, for the results file."""
    match kind:
        case EngineKind.MODEL:
            return {"name": kind.value}
        case EngineKind.WWEBJS:
            node = subprocess.run(
                [install.node_executable(), "--version"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            return {"name": kind.value, "version": install.library_version(), "node": node}
        case EngineKind.GATEWAY:
            return {"name": kind.value}
        case _:
            assert_never(kind)
