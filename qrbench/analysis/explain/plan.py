"""What `qrbench explain` runs: SLOW, FAST and one configuration per switched knob group."""

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from qrbench.analysis.compare import unique_labels
from qrbench.analysis.explain.knobs import GroupDiff, diff_profiles, switch_group
from qrbench.config.models import Profile
from qrbench.errors import ConfigError


class Direction(StrEnum):
    FORWARD = "forward"  # SLOW with one group switched to FAST's values
    BACKWARD = "backward"  # FAST with one group switched back to SLOW's values
    BOTH = "both"


def parse_direction(text: str) -> Direction:
    try:
        return Direction(text.strip().lower())
    except ValueError:
        choices = ", ".join(direction.value for direction in Direction)
        raise ConfigError(f"--direction {text}: must be one of {choices}") from None


def _ways(direction: Direction) -> list[Direction]:
    match direction:
        case Direction.FORWARD | Direction.BACKWARD:
            return [direction]
        case Direction.BOTH:
            return [Direction.FORWARD, Direction.BACKWARD]
        case _:
            assert_never(direction)


@dataclass(frozen=True)
class Configuration:
    label: str
    profile: Profile


@dataclass(frozen=True)
class Switch:
    """One group switched alone: the runs with its slow and its fast values."""

    direction: Direction
    diff: GroupDiff
    slow_side: str
    fast_side: str


@dataclass(frozen=True)
class ExplainPlan:
    slow: str
    fast: str
    groups: list[GroupDiff]
    # What to run, SLOW and FAST first; each once, however many switches use it.
    configurations: list[Configuration]
    switches: list[Switch]

    def session_count(self, runs: int, warmup: int) -> int:
        return len(self.configurations) * (runs + warmup)


def plan_explanation(slow: Profile, fast: Profile, direction: Direction) -> ExplainPlan:
    groups = diff_profiles(slow, fast)
    if not groups:
        raise ConfigError(
            f"{slow.name} and {fast.name} are identical in every knob; nothing to explain"
        )
    slow_label, fast_label = unique_labels([slow.name, fast.name])
    configurations = [Configuration(slow_label, slow), Configuration(fast_label, fast)]
    switches = []
    for way in _ways(direction):
        for diff in groups:
            # With one group, switching it alone gives the other profile itself: its
            # sessions are already measured, so the same configuration is not run twice.
            if way is Direction.FORWARD:
                label = fast_label if len(groups) == 1 else f"{slow_label}+{diff.group.id}"
                if label != fast_label:
                    configurations.append(
                        Configuration(label, switch_group(slow, fast, diff, label))
                    )
                switches.append(Switch(way, diff, slow_side=slow_label, fast_side=label))
            else:
                label = slow_label if len(groups) == 1 else f"{fast_label}-{diff.group.id}"
                if label != slow_label:
                    configurations.append(
                        Configuration(label, switch_group(fast, slow, diff, label))
                    )
                switches.append(Switch(way, diff, slow_side=label, fast_side=fast_label))
    return ExplainPlan(slow_label, fast_label, groups, configurations, switches)
