"""What a gateway timed from outside cannot do."""

from qrbench.config.models import Profile, Scenario
from qrbench.errors import ConfigError


def check_gateway_profile(profile: Profile, scenario: Scenario) -> None:
    """ConfigError (exit 2) before any session when the run cannot time this gateway."""
    if scenario.scan_after_ms is not None:
        raise ConfigError(
            f"scenario {scenario.name}: scan_after_ms: a gateway timed from outside cannot "
            "be logged in by the replica's phone"
        )
