"""Profiles (the gateway configuration a team controls) and scenarios (the world it runs in).

Both are YAML files validated by frozen pydantic models. This module resolves a reference
to a file, follows `extends:` chains, deep-merges them and turns every problem into one
`ProfileError` that names the file, the dotted key path and the line where the offending
value was written.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from qrbench.errors import ConfigError

CHROMIUM_ENV = "QRBENCH_CHROMIUM"
"""Overrides `browser.executable_path`: where Chromium lives is machine-specific, so it
belongs in the environment, not in a profile the whole team shares."""

DEFAULT_WEB_VERSION = "2.3000.1017054665"

_PACKAGE_DIR = Path(__file__).parent
_YAML_SUFFIXES = (".yaml", ".yml")


class ProfileError(ConfigError):
    """A profile or scenario file is unusable; says where, as precisely as is known."""

    def __init__(
        self,
        file: Path,
        message: str,
        *,
        key_path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.key_path = key_path
        self.line = line
        self.message = message
        super().__init__(file, message, key_path, line)

    def __str__(self) -> str:
        where = str(_display_path(self.file))
        if self.line is not None:
            where += f":{self.line}"
        parts = [where, self.key_path, self.message]
        return ": ".join(part for part in parts if part)


def _display_path(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


# --- models -----------------------------------------------------------------------------


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthStrategy(StrEnum):
    LOCALAUTH = "localauth"
    REMOTEAUTH = "remoteauth"


class RemoteAuthFor(StrEnum):
    ALL = "all"  # every session goes through the remote store
    RESTORE_ONLY = "restore_only"  # the study's fix: new accounts use LocalAuth


class StoreBackend(StrEnum):
    AUTO = "auto"  # Redis when one can be had, else SQLite (with a warning)
    REDIS = "redis"
    SQLITE = "sqlite"


class WebhookMode(StrEnum):
    OFF = "off"
    BLOCKING = "blocking"  # the QR waits for the receiver's answer
    BACKGROUND = "background"  # fire-and-forget


class DbUpdates(StrEnum):
    COMBINED = "combined"  # one UPDATE
    SPLIT = "split"  # status, then instance assignment: two transactions


class CacheType(StrEnum):
    NONE = "none"
    LOCAL = "local"
    REMOTE = "remote"


class CachePersist(StrEnum):
    NEVER = "never"
    AFTER_LOAD = "after_load"


class Target(_StrictModel):
    url: str | None = None  # None: the local replica
    deadline_s: float = Field(default=10.0, gt=0)


class Store(_StrictModel):
    backend: StoreBackend = StoreBackend.AUTO
    # None: QRBENCH_REDIS_URL, else a private redis-server qrbench starts for the run.
    url: str | None = None


class Auth(_StrictModel):
    strategy: AuthStrategy = AuthStrategy.LOCALAUTH
    data_path: str | None = None  # None: a temporary directory qrbench creates
    remoteauth_for: RemoteAuthFor = RemoteAuthFor.ALL
    backup_sync_interval_ms: int = Field(default=60000, gt=0)
    store: Store = Field(default_factory=Store)


class Browser(_StrictModel):
    executable_path: str = "/usr/bin/chromium"
    headless: bool = True
    timeout_ms: int = Field(default=30000, gt=0)
    protocol_timeout_ms: int = Field(default=30000, gt=0)
    # page.goto's limit on reaching the index page's `load` event (puppeteer's default).
    navigation_timeout_ms: int = Field(default=30000, gt=0)
    # whatsapp-web.js's authTimeoutMs: how long to wait for `window.Debug.VERSION` after
    # load. 0 is its default, no limit of its own: then only browser.timeout_ms ends it.
    auth_timeout_ms: int = Field(default=0, ge=0)
    args: list[str] = Field(default_factory=list)
    user_agent: str | None = None


class WebVersionCache(_StrictModel):
    type: CacheType = CacheType.NONE
    path: str = ".wwebjs_cache"
    # validate_default so that a missing remote_path is checked, not silently None.
    remote_path: str | None = Field(default=None, validate_default=True)
    strict: bool = False
    persist: CachePersist = CachePersist.NEVER

    @field_validator("remote_path")
    @classmethod
    def _required_for_remote(cls, remote_path: str | None, info: ValidationInfo) -> str | None:
        if remote_path is None and info.data.get("type") is CacheType.REMOTE:
            raise ValueError("required when type is remote")
        return remote_path


class QrOptions(_StrictModel):
    error_correction: Literal["L", "M", "Q", "H"] = "M"  # node-qrcode's default
    width: int | None = Field(default=None, gt=0)
    margin: int = Field(default=4, ge=0)
    # The study's check: drop a QR event when one was generated < 300 s ago for the session.
    dedupe: bool = False
    # whatsapp-web.js's qrMaxRetries: after this many refreshed QRs nobody scanned, the
    # client gives up on the login. 0: never.
    max_retries: int = Field(default=0, ge=0)


class Webhook(_StrictModel):
    mode: WebhookMode = WebhookMode.OFF
    url: str | None = None  # None: qrbench's own receiver
    secret: str = "qrbench-webhook-secret"
    timeout_ms: int = Field(default=10000, gt=0)


class Db(_StrictModel):
    updates: DbUpdates = DbUpdates.COMBINED


class Routing(_StrictModel):
    multi_instance: bool = False
    instances: int = Field(default=1, ge=1)


class ChatSync(_StrictModel):
    on_ready: bool = False
    chats: int = Field(default=500, ge=0)
    batch_size: int = Field(default=50, gt=0)


class Retry(_StrictModel):
    # The service's own retry: a failed attempt is torn down and the account's client
    # initialised again, up to this many attempts in all (1: no retry).
    attempts: int = Field(default=1, ge=1, le=10)


class Gate(_StrictModel):
    """Thresholds for `qrbench gate`; its command-line options override each one."""

    target_s: float | None = Field(default=None, gt=0)  # None: the profile's target.deadline_s
    # The time-to-QR percentile held to the target, over the successful sessions.
    percentile: float = Field(default=95, gt=0, le=100)
    # Sessions that showed a verified QR (whenever it came), in % of the measured ones.
    min_success_percent: float = Field(default=98, ge=0, le=100)
    # How much slower than the baseline (ratio of medians) a significant slowdown may be.
    max_regression_percent: float = Field(default=10, ge=0)


class Profile(_StrictModel):
    name: str  # the file stem, set by the loader
    description: str = ""
    target: Target = Field(default_factory=Target)
    auth: Auth = Field(default_factory=Auth)
    browser: Browser = Field(default_factory=Browser)
    web_version: str = Field(default=DEFAULT_WEB_VERSION, pattern=r"^\d+\.\d+\.\d+$")
    web_version_cache: WebVersionCache = Field(default_factory=WebVersionCache)
    qr: QrOptions = Field(default_factory=QrOptions)
    webhook: Webhook = Field(default_factory=Webhook)
    db: Db = Field(default_factory=Db)
    routing: Routing = Field(default_factory=Routing)
    chat_sync: ChatSync = Field(default_factory=ChatSync)
    retry: Retry = Field(default_factory=Retry)
    gate: Gate = Field(default_factory=Gate)


class Replica(_StrictModel):
    index_kb: int = Field(default=600, gt=0)
    bundle_kb: int = Field(default=4096, gt=0)


class RemoteSession(_StrictModel):
    """A session already in the RemoteAuth store (stale or real) when the user clicks."""

    present: bool = False
    size_mb: float = Field(default=5.0, ge=0)


class ScenarioWebhook(_StrictModel):
    processing_ms: int = Field(default=0, ge=0)  # what the receiver spends on each request


class ScenarioQr(_StrictModel):
    refs: int = Field(default=6, ge=1)
    first_ttl_s: float = Field(default=60.0, gt=0)
    next_ttl_s: float = Field(default=20.0, gt=0)


class OriginNetwork(_StrictModel):
    """The link between the gateway and one origin."""

    # Added to every request's round trip, from request sent to response headers received
    # (CDP's `latency`); connection setup adds no round trips of its own.
    latency_ms: int = Field(default=0, ge=0)
    # Kilobits per second (1 kbps = 125 bytes/s); None: as fast as loopback carries them.
    download_kbps: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    upload_kbps: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class ScenarioNetwork(_StrictModel):
    """Per origin, as the gateway sees it. `whatsapp` also covers a custom `target.url`."""

    whatsapp: OriginNetwork = Field(default_factory=OriginNetwork)
    static: OriginNetwork = Field(default_factory=OriginNetwork)
    version_host: OriginNetwork = Field(default_factory=OriginNetwork)
    webhook: OriginNetwork = Field(default_factory=OriginNetwork)


class ScenarioCpu(_StrictModel):
    # How many times slower the page's main thread runs than this machine's.
    slowdown: float = Field(default=1.0, ge=1, allow_inf_nan=False)


class Faults(_StrictModel):
    """Per-attempt probabilities of each fault; at most one fault strikes an attempt."""

    # The same seed strikes the same sessions and attempts with the same faults, in any
    # profile: a comparison meets one fault pattern.
    seed: int = 0
    hang: float = Field(default=0.0, ge=0, le=1)  # the socket is accepted, no ref ever comes
    drop: float = Field(default=0.0, ge=0, le=1)  # the socket is cut mid-handshake
    bundle_stall: float = Field(default=0.0, ge=0, le=1)  # a JS bundle stops streaming
    http_500: float = Field(default=0.0, ge=0, le=1)  # the index answers 500
    browser_crash: float = Field(default=0.0, ge=0, le=1)  # Chromium is killed mid-load

    @model_validator(mode="after")
    def _at_most_certain(self) -> Faults:
        total = self.hang + self.drop + self.bundle_stall + self.http_500 + self.browser_crash
        if total > 1:
            raise ValueError(f"the fault probabilities add up to {total:g}, more than 1")
        return self


class Scenario(_StrictModel):
    name: str  # the file stem, set by the loader
    description: str = ""
    replica: Replica = Field(default_factory=Replica)
    network: ScenarioNetwork = Field(default_factory=ScenarioNetwork)
    cpu: ScenarioCpu = Field(default_factory=ScenarioCpu)
    remote_session: RemoteSession = Field(default_factory=RemoteSession)
    webhook: ScenarioWebhook = Field(default_factory=ScenarioWebhook)
    qr: ScenarioQr = Field(default_factory=ScenarioQr)
    faults: Faults = Field(default_factory=Faults)
    # None: nobody scans; else the phone scans the QR this long after it was first shown.
    scan_after_ms: int | None = Field(default=None, gt=0)


REDACTED = "<redacted>"


def profile_to_dict(model: BaseModel) -> dict[str, Any]:
    """A JSON-safe dict of a profile or scenario, secrets redacted, for display and results."""
    data = model.model_dump(mode="json")
    if isinstance(model, Profile):
        data["webhook"]["secret"] = REDACTED
    return data


# --- where files live -------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    noun: str
    subdir: PurePosixPath  # below the working directory and below the package alike

    def search_dirs(self, cwd: Path) -> list[Path]:
        return [cwd / self.subdir, _PACKAGE_DIR / self.subdir]


_PROFILES = _Kind("profile", PurePosixPath("profiles"))
_SCENARIOS = _Kind("scenario", PurePosixPath("profiles/scenarios"))


@dataclass(frozen=True)
class ProfileEntry:
    name: str
    path: Path
    description: str
    shipped: bool


def list_profiles(*, cwd: Path | None = None) -> list[ProfileEntry]:
    return _list(_PROFILES, cwd or Path.cwd())


def list_scenarios(*, cwd: Path | None = None) -> list[ProfileEntry]:
    return _list(_SCENARIOS, cwd or Path.cwd())


def _list(kind: _Kind, cwd: Path) -> list[ProfileEntry]:
    shipped_dir = (_PACKAGE_DIR / kind.subdir).resolve()
    entries: dict[str, ProfileEntry] = {}
    # Lowest priority first, so that a local file replaces the shipped one of its name.
    for directory in reversed(kind.search_dirs(cwd)):
        for path in sorted(directory.glob("*.yaml")):
            entries[path.stem] = ProfileEntry(
                name=path.stem,
                path=path,
                description=_description_of(path, kind, cwd),
                shipped=path.resolve().parent == shipped_dir,
            )
    return [entries[name] for name in sorted(entries)]


def _description_of(path: Path, kind: _Kind, cwd: Path) -> str:
    # A listing is an index, not a validator: one broken file must not hide the others.
    # load_profile / load_scenario report what is wrong with it.
    try:
        data, _ = _read_merged(path, kind, cwd, chain=(path.resolve(),))
    except ProfileError:
        return ""
    description = data.get("description")
    return description if isinstance(description, str) else ""


def _is_name(ref: str) -> bool:
    return "/" not in ref and not ref.endswith(_YAML_SUFFIXES)


def _available_names(kind: _Kind, cwd: Path) -> str:
    names = sorted({path.stem for d in kind.search_dirs(cwd) for path in d.glob("*.yaml")})
    return ", ".join(names) or "none"


def _resolve_ref(ref: str, kind: _Kind, cwd: Path) -> Path:
    if not _is_name(ref):
        path = cwd / ref
        if not path.is_file():
            raise ProfileError(path, f"no such {kind.noun} file")
        return path
    candidates = [directory / f"{ref}.yaml" for directory in kind.search_dirs(cwd)]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        looked_in = ", ".join(str(path) for path in candidates)
        raise ProfileError(
            candidates[0],
            f"no {kind.noun} named '{ref}' (looked in {looked_in}; "
            f"available: {_available_names(kind, cwd)})",
        )
    return found


def _extends_candidates(ref: str, extending_file: Path, kind: _Kind, cwd: Path) -> list[Path]:
    if not _is_name(ref):
        return [extending_file.parent / ref]
    directories = [extending_file.parent, *kind.search_dirs(cwd)]
    return [directory / f"{ref}.yaml" for directory in directories]


# --- YAML with line numbers -------------------------------------------------------------

_Locations = dict[str, tuple[Path, int]]
"""Dotted key path -> (file, 1-based line) where that key or list item was written."""


def _parse_yaml(path: Path) -> tuple[dict[str, Any], _Locations]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(path, f"cannot read file: {error}") from error
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:  # an empty file means "all defaults"
            return {}, {}
        if not isinstance(root, yaml.MappingNode):
            raise ProfileError(
                path, "the top level must be a mapping of keys", line=root.start_mark.line + 1
            )
        locations: _Locations = {}
        data = _build(root, path, "", loader, locations)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ProfileError(
            path,
            f"invalid YAML: {error.problem}",
            line=mark.line + 1 if mark is not None else None,
        ) from error
    except yaml.YAMLError as error:
        raise ProfileError(path, f"invalid YAML: {error}") from error
    finally:
        loader.dispose()
    return data, locations


def _build(
    node: yaml.Node, path: Path, key_path: str, loader: yaml.SafeLoader, locations: _Locations
) -> Any:
    """Construct the Python value of `node`, recording where each key and item was written."""
    prefix = f"{key_path}." if key_path else ""
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<:` merge keys like yaml.safe_load does
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                # YAML 1.1 reads `on:` or `yes:` as booleans; say so rather than "unknown key".
                raise ProfileError(
                    path,
                    f"keys must be text (got {key!r}; quote it)",
                    key_path=key_path or None,
                    line=line,
                )
            child_path = f"{prefix}{key}"
            if key in mapping:
                first_line = locations[child_path][1]
                raise ProfileError(
                    path,
                    f"duplicate key (first on line {first_line})",
                    key_path=child_path,
                    line=line,
                )
            locations[child_path] = (path, line)
            mapping[key] = _build(value_node, path, child_path, loader, locations)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child_path = f"{prefix}{index}"
            locations[child_path] = (path, item_node.start_mark.line + 1)
            items.append(_build(item_node, path, child_path, loader, locations))
        return items
    return loader.construct_object(node, deep=True)


# --- extends ----------------------------------------------------------------------------


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_merged(
    path: Path, kind: _Kind, cwd: Path, *, chain: tuple[Path, ...]
) -> tuple[dict[str, Any], _Locations]:
    """The file's data with its `extends` chain merged in.

    `chain` is every resolved file from the one requested down to `path`, to detect cycles.
    """
    data, locations = _parse_yaml(path)
    if "extends" not in data:
        return data, locations
    parent_ref = data.pop("extends")
    _, extends_line = locations.pop("extends")

    def extends_error(message: str) -> ProfileError:
        return ProfileError(path, message, key_path="extends", line=extends_line)

    if not isinstance(parent_ref, str) or not parent_ref:
        raise extends_error(f"must be a {kind.noun} name or a path (got {parent_ref!r})")
    candidates = _extends_candidates(parent_ref, path, kind, cwd)
    parent = next((candidate for candidate in candidates if candidate.is_file()), None)
    if parent is None:
        looked_in = ", ".join(str(candidate) for candidate in candidates)
        raise extends_error(f"cannot find '{parent_ref}' (looked in {looked_in})")
    if parent.resolve() in chain:
        cycle = " -> ".join(str(_display_path(p)) for p in (*chain, parent.resolve()))
        raise extends_error(f"extends cycle: {cycle}")

    parent_data, parent_locations = _read_merged(
        parent, kind, cwd, chain=(*chain, parent.resolve())
    )
    # A key path the child wrote is the child's; anything else still comes from the parent.
    # Entries for parent values the child replaced linger, but validation never asks for
    # a path that is not in the merged data.
    return _deep_merge(parent_data, data), parent_locations | locations


# --- loading and validation -------------------------------------------------------------

_Model = TypeVar("_Model", Profile, Scenario)


def load_profile(ref: str, *, cwd: Path | None = None) -> Profile:
    """Load a profile by name (`optimized`) or path (`my/profile.yaml`)."""
    profile = _load(Profile, _PROFILES, ref, cwd or Path.cwd())
    chromium = os.environ.get(CHROMIUM_ENV)
    if not chromium:
        return profile
    browser = profile.browser.model_copy(update={"executable_path": chromium})
    return profile.model_copy(update={"browser": browser})


def load_scenario(ref: str, *, cwd: Path | None = None) -> Scenario:
    """Load a scenario by name (`lan`) or path (`my/scenario.yaml`)."""
    return _load(Scenario, _SCENARIOS, ref, cwd or Path.cwd())


_AnyModel = TypeVar("_AnyModel", bound=BaseModel)


def load_yaml_model(model: type[_AnyModel], path: Path) -> _AnyModel:
    """One YAML file (no `extends`) validated against `model`; errors located like a profile's."""
    data, locations = _parse_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _translate(error, model, path, locations) from None


def _load(model: type[_Model], kind: _Kind, ref: str, cwd: Path) -> _Model:
    path = _resolve_ref(ref, kind, cwd)
    data, locations = _read_merged(path, kind, cwd, chain=(path.resolve(),))
    if "name" in data:
        file, line = locations["name"]
        raise ProfileError(
            file,
            f"unknown key: a {kind.noun} is named after its file",
            key_path="name",
            line=line,
        )
    try:
        return model.model_validate({**data, "name": path.stem})
    except ValidationError as error:
        raise _translate(error, model, path, locations) from None


def _translate(
    error: ValidationError, model: type[BaseModel], root_file: Path, locations: _Locations
) -> ProfileError:
    """Turn pydantic's first error into one ProfileError pointing at where it was written."""
    details = error.errors(include_url=False)
    # A misspelt key also leaves the key it meant missing; the typo is the one to report.
    first = next((d for d in details if d["type"] == "extra_forbidden"), details[0])
    loc = [str(part) for part in first["loc"]]
    key_path = ".".join(loc)
    message = _message(first, model, loc, written=key_path in locations)
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    # A missing key has no line of its own; the enclosing section's line is the best hint.
    for depth in range(len(loc), 0, -1):
        found = locations.get(".".join(loc[:depth]))
        if found is not None:
            file, line = found
            break
    else:
        file, line = root_file, None
    return ProfileError(file, message, key_path=key_path or None, line=line)


def _message(detail: ErrorDetails, model: type[BaseModel], loc: list[str], *, written: bool) -> str:
    if detail["type"] == "extra_forbidden":
        return _unknown_key_message(loc[-1], _allowed_keys(model, loc[:-1]))
    if detail["type"] == "model_type":
        message = "must be a mapping of keys"
    else:
        message = detail["msg"]
        for pydantic_phrase, ours in (
            ("Input should be", "must be"),
            ("String should", "must"),
            ("Value error, ", ""),
            ("Field required", "missing (required)"),
        ):
            message = message.replace(pydantic_phrase, ours)
    # Echo the value only when the file wrote one: a missing key has nothing to show.
    return f"{message} (got {_describe(detail['input'])})" if written else message


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"  # YAML's spelling, e.g. for a section left empty
    return repr(value)


def _allowed_keys(model: type[BaseModel], section: list[str]) -> list[str]:
    if not section:
        # `name` comes from the file name; `extends` is consumed before validation.
        return [*(key for key in model.model_fields if key != "name"), "extends"]
    for key in section:
        field = model.model_fields.get(key)
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    message = f"unknown key '{key}'"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f", did you mean '{close[0]}'?"
    if allowed:
        message += f" (allowed: {', '.join(allowed)})"
    return message
