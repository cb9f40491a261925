"""The study's knob groups: which Profile key belongs to which, and switching one alone."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from qrbench.config.models import Profile, profile_to_dict
from qrbench.config.validation import describe
from qrbench.errors import ConfigError

# --- the knob groups --------------------------------------------------------------------


@dataclass(frozen=True)
class KnobGroup:
    # In variant labels (`new+webhook`) and estimates files.
    id: str
    # As the study names it, for people.
    title: str
    # Dotted key paths of the Profile model; `section.*` is every key below `section`.
    keys: tuple[str, ...]


# The one table that says which key belongs to which knob group. Sections that the study
# splits (auth, browser) list their keys one by one, so that a key added to them later
# fails test_every_profile_key_is_placed until someone decides where it belongs.
KNOB_GROUPS: tuple[KnobGroup, ...] = (
    KnobGroup(
        "auth",
        "auth",
        ("auth.strategy", "auth.remoteauth_for", "auth.backup_sync_interval_ms", "auth.store.*"),
    ),
    KnobGroup(
        "timeouts",
        "timeouts",
        (
            "browser.timeout_ms",
            "browser.protocol_timeout_ms",
            "browser.navigation_timeout_ms",
            "browser.auth_timeout_ms",
            "retry.*",
        ),
    ),
    # The warm pool goes with the args: both decide how each login's browser is had.
    KnobGroup(
        "chromium_args",
        "Chromium args",
        ("browser.args", "browser.headless", "browser.user_agent", "browser.pool"),
    ),
    KnobGroup("web_version_cache", "web-version cache", ("web_version", "web_version_cache.*")),
    KnobGroup("webhook", "webhook", ("webhook.*",)),
    KnobGroup("db_updates", "DB updates", ("db.*",)),
    KnobGroup("routing", "routing", ("routing.*",)),
    KnobGroup("chat_sync", "chat sync", ("chat_sync.*",)),
    KnobGroup("qr_options", "QR options", ("qr.*",)),
)
GROUPS_BY_ID = {group.id: group for group in KNOB_GROUPS}

# Never switched: what names the profile, what judges it, and where this machine keeps
# Chromium and its data; switching them would measure the machine, not the gateway.
NOT_KNOBS: tuple[str, ...] = (
    "name",
    "description",
    "engine",  # the instrument, not the gateway: explain runs every variant on one
    "world",  # where the sessions go, as the engine: every variant runs in one
    "target.*",
    "gate.*",
    "browser.executable_path",
    # Where the browsers run, like where Chromium is installed: the machine, not the gateway.
    "browser.provider",
    "browser.endpoints",
    "browser.replica_port",
    "auth.data_path",
    # The user's gateway itself (a section, or none: the reference gateway): its own knobs
    # are its env and its config.
    "gateway",
    "gateway.*",
)
NOT_A_KNOB = "not a knob"


def _matches(pattern: str, key: str) -> bool:
    if pattern.endswith(".*"):
        return key.startswith(pattern[:-1])
    return key == pattern


def owners(key: str) -> list[str]:
    """Every knob group id (or NOT_A_KNOB) whose table entry covers `key`; one when placed."""
    found = [group.id for group in KNOB_GROUPS if any(_matches(p, key) for p in group.keys)]
    if any(_matches(pattern, key) for pattern in NOT_KNOBS):
        found.append(NOT_A_KNOB)
    return found


def group_of(key: str) -> KnobGroup | None:
    """The knob group of a Profile key; None for a key that is not a knob."""
    found = owners(key)
    if len(found) != 1:
        # A bug in the table, which test_explain's placement test exists to catch.
        placed = ", ".join(found) or "nothing"
        raise LookupError(f"profile key {key} must be in one knob group (is in {placed})")
    return None if found[0] == NOT_A_KNOB else GROUPS_BY_ID[found[0]]


def leaf_keys(model: type[BaseModel] = Profile, prefix: str = "") -> list[str]:
    """Dotted paths of the model's values (a list, such as browser.args, is one value)."""
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


# --- diffing and switching --------------------------------------------------------------


@dataclass(frozen=True)
class KnobChange:
    key: str
    # As `profiles show` prints them (JSON types, secrets redacted).
    slow_value: Any
    fast_value: Any


@dataclass(frozen=True)
class GroupDiff:
    group: KnobGroup
    changes: list[KnobChange]


def _get(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        value = value[part]
    return value


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    *sections, last = key.split(".")
    for part in sections:
        data = data[part]
    data[last] = value


def diff_profiles(slow: Profile, fast: Profile) -> list[GroupDiff]:
    """The knob groups in which the two profiles differ, in the study's order."""
    # Compared unredacted (a changed secret is a change), shown redacted.
    slow_data, fast_data = slow.model_dump(mode="json"), fast.model_dump(mode="json")
    slow_shown, fast_shown = profile_to_dict(slow), profile_to_dict(fast)
    changes: dict[str, list[KnobChange]] = {}
    for key in leaf_keys():
        group = group_of(key)
        if group is None or _get(slow_data, key) == _get(fast_data, key):
            continue
        change = KnobChange(key, _get(slow_shown, key), _get(fast_shown, key))
        changes.setdefault(group.id, []).append(change)
    return [GroupDiff(group, changes[group.id]) for group in KNOB_GROUPS if group.id in changes]


def switch_group(base: Profile, source: Profile, diff: GroupDiff, name: str) -> Profile:
    """`base` with the group's keys set to `source`'s values, validated like any profile."""
    data = base.model_dump(mode="json")
    source_data = source.model_dump(mode="json")
    for change in diff.changes:
        _set(data, change.key, _get(source_data, change.key))
    data["name"] = name
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"{name}: switching {diff.group.title} alone makes an invalid profile "
            f"({describe(error)})"
        ) from None
