"""The gate's thresholds: parsed from the command line, merged with the profile's gate section."""

import re
from dataclasses import dataclass

from qrbench.config.models import Profile
from qrbench.errors import ConfigError

_DURATION = re.compile(
    r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+))\s*(?P<unit>ms|s|m|min|h)?", re.IGNORECASE
)
_UNIT_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "min": 60_000.0, "h": 3_600_000.0}

_PERCENT = re.compile(r"(?P<number>[-+]?(?:\d+\.?\d*|\.\d+))\s*(?P<sign>%)?")


@dataclass(frozen=True)
class Thresholds:
    target_ms: float
    percentile: float
    min_success_percent: float
    max_regression_percent: float


@dataclass(frozen=True)
class ThresholdOverrides:
    """Thresholds given on the command line; None where the profile's `gate:` decides."""

    target_ms: float | None = None
    percentile: float | None = None
    min_success_percent: float | None = None
    max_regression_percent: float | None = None


def parse_duration_ms(text: str, option: str) -> float:
    """`10s`, `800ms`, `10m`, `1h` or a bare number of seconds, as milliseconds above 0."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"{option}: expected a duration like 10s, 800ms or 10m (got {text!r})")
    value_ms = float(match["number"]) * _UNIT_MS[(match["unit"] or "s").lower()]
    if value_ms <= 0:
        raise ConfigError(f"{option}: must be greater than 0 (got {text})")
    return value_ms


def parse_percent(text: str, option: str, *, low: float, high: float | None) -> float:
    """`98%` or `98`, as a percentage in [low, high] (no upper bound when high is None).

    A bare number between 0 and 1 is refused: `0.98` is as likely a fraction meaning 98 %
    as 0.98 %, and reading it either way silently makes a gate pass or fail for no reason.
    """
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"{option}: expected a percentage like 98% (got {text!r})")
    value = float(match["number"])
    if match["sign"] is None and 0 < value < 1:
        raise ConfigError(
            f"{option}: {text.strip()} is ambiguous: write {value * 100:g}% for "
            f"{value * 100:g} percent, or {text.strip()}% if that is meant"
        )
    if high is None and value < low:
        raise ConfigError(f"{option}: must be at least {low:g}% (got {text})")
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{option}: must be between {low:g}% and {high:g}% (got {text})")
    return value


def parse_percentile(text: str) -> float:
    """`p95` (as the tables write it), `95` or `95%`, as a percentile in [0, 100]."""
    bare = text.strip()
    if bare[:1] in ("p", "P"):
        # `p0.5` names the 0.5th percentile: only a bare 0.5 is ambiguous.
        bare = bare[1:].strip().removesuffix("%") + "%"
    return parse_percent(bare, "--percentile", low=0, high=100)


def parse_overrides(
    *,
    target: str | None,
    percentile: str | None,
    min_success: str | None,
    max_regression: str | None,
) -> ThresholdOverrides:
    """The command line's thresholds as typed; raises ConfigError naming the bad option."""
    parsed_percentile = None
    if percentile is not None:
        parsed_percentile = parse_percentile(percentile)
        # The 0th percentile is the minimum: a gate on the fastest session judges nothing.
        if parsed_percentile == 0:
            raise ConfigError(f"--percentile: must be greater than 0 (got {percentile})")
    return ThresholdOverrides(
        target_ms=None if target is None else parse_duration_ms(target, "--target"),
        percentile=parsed_percentile,
        min_success_percent=(
            None
            if min_success is None
            else parse_percent(min_success, "--min-success", low=0, high=100)
        ),
        max_regression_percent=(
            None
            if max_regression is None
            else parse_percent(max_regression, "--max-regression", low=0, high=None)
        ),
    )


def resolve_thresholds(overrides: ThresholdOverrides, profile: Profile) -> Thresholds:
    """The command line wins over the profile's `gate:` section, which has defaults."""
    gate = profile.gate
    target_s = profile.target.deadline_s if gate.target_s is None else gate.target_s
    return Thresholds(
        target_ms=_given_or(overrides.target_ms, target_s * 1000),
        percentile=_given_or(overrides.percentile, gate.percentile),
        min_success_percent=_given_or(overrides.min_success_percent, gate.min_success_percent),
        max_regression_percent=_given_or(
            overrides.max_regression_percent, gate.max_regression_percent
        ),
    )


def _given_or(given: float | None, default: float) -> float:
    return default if given is None else given
