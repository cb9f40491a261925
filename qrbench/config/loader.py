"""Reading profiles and scenarios from YAML.

Resolves a reference to a file, follows `extends:` chains, deep-merges them and turns
every problem into one `ProfileError` that names the file, the dotted key path and the
line where the offending value was written.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import ErrorDetails

from qrbench.config.models import CHROMIUM_ENV, CacheType, Profile, Scenario, WebVersionCache
from qrbench.config.validation import first_error, key_path, plain_message
from qrbench.config.yaml_source import (
    YAML_SUFFIXES,
    Locations,
    ProfileError,
    check_yaml_suffix,
    display_path,
    parse_yaml,
)
from qrbench.outputs import nearest_existing

__all__ = ["ProfileError", "load_profile", "load_scenario", "load_yaml_model"]

# Shipped profiles live in qrbench/profiles/.
_PACKAGE_DIR = Path(__file__).parent.parent


# --- where files live -------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    noun: str
    subdir: PurePosixPath  # below the working directory and below the package alike

    def search_dirs(self, cwd: Path) -> list[Path]:
        return [cwd / self.subdir, _PACKAGE_DIR / self.subdir]


_PROFILES = FileKind("profile", PurePosixPath("profiles"))
_SCENARIOS = FileKind("scenario", PurePosixPath("profiles/scenarios"))


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


def _list(kind: FileKind, cwd: Path) -> list[ProfileEntry]:
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


def _description_of(path: Path, kind: FileKind, cwd: Path) -> str:
    # A listing is an index, not a validator: one broken file must not hide the others.
    # load_profile / load_scenario report what is wrong with it.
    try:
        data, _ = _read_merged(path, kind, cwd, chain=(path.resolve(),))
    except ProfileError:
        return ""
    description = data.get("description")
    return description if isinstance(description, str) else ""


def _is_name(ref: str) -> bool:
    return "/" not in ref and not ref.endswith(YAML_SUFFIXES)


def _available_names(kind: FileKind, cwd: Path) -> str:
    names = sorted({path.stem for d in kind.search_dirs(cwd) for path in d.glob("*.yaml")})
    return ", ".join(names) or "none"


def resolve_ref(ref: str, kind: FileKind, cwd: Path) -> Path:
    if not _is_name(ref):
        path = cwd / ref
        if not path.is_file():
            raise ProfileError(path, f"no such {kind.noun} file")
        check_yaml_suffix(path, kind.noun)
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


def _extends_candidates(ref: str, extending_file: Path, kind: FileKind, cwd: Path) -> list[Path]:
    if not _is_name(ref):
        return [extending_file.parent / ref]
    directories = [extending_file.parent, *kind.search_dirs(cwd)]
    return [directory / f"{ref}.yaml" for directory in directories]


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
    path: Path, kind: FileKind, cwd: Path, *, chain: tuple[Path, ...]
) -> tuple[dict[str, Any], Locations]:
    """The file's data with its `extends` chain merged in.

    `chain` is every resolved file from the one requested down to `path`, to detect cycles.
    """
    data, locations = parse_yaml(path)
    if "extends" not in data:
        return data, locations
    parent_ref = data.pop("extends")
    _, extends_line = locations.pop("extends")

    def extends_error(message: str) -> ProfileError:
        return ProfileError(path, message, key_path="extends", line=extends_line)

    if not isinstance(parent_ref, str) or not parent_ref:
        raise extends_error(f"must be a {kind.noun} name or a path (got {parent_ref!r})")
    if not _is_name(parent_ref) and not parent_ref.endswith(YAML_SUFFIXES):
        raise extends_error(f"must name a .yaml or .yml file (got {parent_ref!r})")
    candidates = _extends_candidates(parent_ref, path, kind, cwd)
    parent = next((candidate for candidate in candidates if candidate.is_file()), None)
    if parent is None:
        looked_in = ", ".join(str(candidate) for candidate in candidates)
        raise extends_error(f"cannot find '{parent_ref}' (looked in {looked_in})")
    if parent.resolve() in chain:
        cycle = " -> ".join(str(display_path(p)) for p in (*chain, parent.resolve()))
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
    data, locations = parse_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _translate(error, model, path, locations) from None


def _load(model: type[_Model], kind: FileKind, ref: str, cwd: Path) -> _Model:
    path = resolve_ref(ref, kind, cwd)
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
        loaded = model.model_validate({**data, "name": path.stem})
    except ValidationError as error:
        raise _translate(error, model, path, locations) from None
    if isinstance(loaded, Profile):
        _check_cache_folder(loaded.web_version_cache, cwd, path, locations)
    return loaded


def _check_cache_folder(
    cache: WebVersionCache, cwd: Path, root_file: Path, locations: Locations
) -> None:
    """Refuses a local cache folder that cannot be one, which would otherwise pass
    `profiles validate` and fail every session with NotADirectoryError."""
    folder = cwd / cache.path
    # A missing folder is fine: persisting creates it.
    if cache.type is not CacheType.LOCAL or (in_the_way := nearest_existing(folder)).is_dir():
        return
    # The default path is written nowhere; `type: local` is what asked for the folder.
    written = locations.get("web_version_cache.path") or locations.get("web_version_cache.type")
    file, line = written or (root_file, None)
    reason = "it is not a folder" if in_the_way == folder else f"{in_the_way} is not a folder"
    message = f"{cache.path} cannot be the local cache folder ({reason})"
    raise ProfileError(file, message, key_path="web_version_cache.path", line=line)


def _translate(
    error: ValidationError, model: type[BaseModel], root_file: Path, locations: Locations
) -> ProfileError:
    """Turn pydantic's errors into one ProfileError pointing at where the first was written,
    holding every one (`problems`, by line) for `profiles validate` to list."""
    details = error.errors(include_url=False)
    located = [_located(detail, model, root_file, locations) for detail in details]
    first = located[details.index(first_error(error))]
    if len(located) == 1:
        return first
    by_line = sorted(
        located, key=lambda problem: (str(problem.file), problem.line or 0, problem.key_path or "")
    )
    return ProfileError(
        first.file,
        f"{first.message} (and {len(located) - 1} more)",
        key_path=first.key_path,
        line=first.line,
        problems=tuple(by_line),
    )


def _located(
    detail: ErrorDetails, model: type[BaseModel], root_file: Path, locations: Locations
) -> ProfileError:
    """One pydantic error as a ProfileError at the line that wrote it."""
    loc = [str(part) for part in detail["loc"]]
    where = key_path(detail)
    message = _message(detail, model, loc, written=where in locations)
    # A missing key has no line of its own; the enclosing section's line is the best hint.
    for depth in range(len(loc), 0, -1):
        found = locations.get(".".join(loc[:depth]))
        if found is not None:
            file, line = found
            break
    else:
        file, line = root_file, None
    return ProfileError(file, message, key_path=where or None, line=line)


def _message(detail: ErrorDetails, model: type[BaseModel], loc: list[str], *, written: bool) -> str:
    if detail["type"] == "extra_forbidden":
        return _unknown_key_message(loc[-1], _allowed_keys(model, loc[:-1]))
    message = plain_message(detail)
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
