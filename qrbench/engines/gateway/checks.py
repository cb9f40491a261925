"""What a gateway timed from outside cannot do."""

from qrbench.config.gateway import QrSource
from qrbench.config.models import Profile, Scenario
from qrbench.errors import ConfigError


def check_gateway_profile(profile: Profile, scenario: Scenario) -> None:
    """ConfigError (exit 2) before any session when the run cannot time this gateway."""
    if scenario.scan_after_ms is not None:
        raise ConfigError(
            f"scenario {scenario.name}: scan_after_ms: a gateway timed from outside cannot "
            "be logged in by the replica's phone"
        )
    gateway = profile.gateway
    if gateway is not None and gateway.qr.source is QrSource.WEBHOOK and profile.webhook.url:
        raise ConfigError(
            f"profile {profile.name}: webhook.url: the gateway's QR comes by webhook "
            "(gateway.qr.source), so qrbench's own receiver must take it; remove webhook.url"
        )
