"""One YAML file read as configuration: its values, where each was written, and its bounds.

Profiles and scenarios arrive in pull requests, so a file is untrusted input: it gets one
located error in bounded time and memory, whatever its shape. Two shapes need a bound of
their own, because PyYAML handles neither: nesting (its composer recurses once per level)
and aliases (a few lines of references that expand to billions of values when built).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qrbench.errors import ConfigError

YAML_SUFFIXES = (".yaml", ".yml")

# Far beyond any real profile (four levels deep, a few dozen values), far below harm.
MAX_DEPTH = 32
MAX_VALUES = 10_000


class ProfileError(ConfigError):
    """A profile or scenario file is unusable; says where, as precisely as is known."""

    def __init__(
        self,
        file: Path,
        message: str,
        *,
        key_path: str | None = None,
        line: int | None = None,
        problems: tuple[ProfileError, ...] = (),
    ) -> None:
        self.file = file
        self.key_path = key_path
        self.line = line
        self.message = message
        self._problems = problems
        super().__init__(file, message, key_path, line)

    @property
    def problems(self) -> tuple[ProfileError, ...]:
        """Every problem found, by file and line (this error says the first and how many)."""
        return self._problems or (self,)

    def __str__(self) -> str:
        where = str(display_path(self.file))
        if self.line is not None:
            where += f":{self.line}"
        parts = [where, self.key_path, self.message]
        return ": ".join(part for part in parts if part)


def display_path(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


Locations = dict[str, tuple[Path, int]]
"""Dotted key path -> (file, 1-based line) where that key or list item was written."""


def check_yaml_suffix(path: Path, noun: str) -> None:
    """Refuses a file that does not say it is YAML before reading a byte of it: an error
    about such a file would quote its lines (`extends: /etc/shadow`)."""
    if path.suffix not in YAML_SUFFIXES:
        raise ProfileError(path, f"a {noun} file must end in .yaml or .yml")


def parse_yaml(path: Path) -> tuple[dict[str, Any], Locations]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(path, f"cannot read file: {error}") from error
    try:
        _check_depth(text, path)
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:  # an empty file means "all defaults"
                return {}, {}
            if not isinstance(root, yaml.MappingNode):
                raise ProfileError(
                    path, "the top level must be a mapping of keys", line=root.start_mark.line + 1
                )
            _check_expansion(root, path)
            locations: Locations = {}
            data = _Builder(path, loader, locations).build(root, "")
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ProfileError(
            path,
            f"invalid YAML: {error.problem}",
            line=mark.line + 1 if mark is not None else None,
        ) from error
    except yaml.YAMLError as error:
        raise ProfileError(path, f"invalid YAML: {error}") from error
    return data, locations


def _check_depth(text: str, path: Path) -> None:
    # The parser keeps its own stack, so walking its events is safe at any depth; only
    # composing nodes recurses.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ProfileError(
                    path,
                    f"nested more than {MAX_DEPTH} levels deep",
                    line=event.start_mark.line + 1,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuses a node graph whose aliases would build too many values or nest too deep.

    An alias is the node it names, shared: the graph stays small while the values built
    from it grow with every level of references. Sizes are counted once per node, and the
    walk stops at the depth limit, so this costs the graph's size, not its expansion.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) it builds

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise ProfileError(
                path,
                f"nested more than {MAX_DEPTH} levels deep once YAML aliases are expanded",
                line=node.start_mark.line + 1,
            )
        known = measured.get(id(node))
        if known is not None:
            if depth + known[1] > MAX_DEPTH:
                measure_children(node, depth)  # raises, at the level that passes the limit
            return known
        values, levels = measure_children(node, depth)
        if values > MAX_VALUES:
            raise ProfileError(
                path,
                f"more than {MAX_VALUES:,} values once YAML aliases are expanded",
                line=node.start_mark.line + 1,
            )
        measured[id(node)] = (values, levels)
        return values, levels

    def measure_children(node: yaml.Node, depth: int) -> tuple[int, int]:
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        values, levels = 1, 0
        for child in children:
            child_values, child_levels = measure(child, depth + 1)
            values += child_values
            levels = max(levels, child_levels + 1)
        return values, levels

    measure(root, 1)


class _Builder:
    """Constructs the Python value of a node tree, recording where each key and item was
    written (the tree is bounded by `_check_expansion` first)."""

    def __init__(self, path: Path, loader: yaml.SafeLoader, locations: Locations) -> None:
        self._path = path
        self._loader = loader
        self._locations = locations

    def build(self, node: yaml.Node, key_path: str) -> Any:
        prefix = f"{key_path}." if key_path else ""
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, key_path, prefix)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item_node in enumerate(node.value):
                child_path = f"{prefix}{index}"
                self._locations[child_path] = (self._path, item_node.start_mark.line + 1)
                items.append(self.build(item_node, child_path))
            return items
        return self._loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, key_path: str, prefix: str) -> dict[Any, Any]:
        self._loader.flatten_mapping(node)  # resolves `<<:` merge keys like yaml.safe_load does
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ProfileError(
                    self._path,
                    "keys must be text (got a mapping or list as a key)",
                    key_path=key_path or None,
                    line=line,
                )
            key = self._loader.construct_object(key_node)
            if not isinstance(key, str):
                # YAML 1.1 reads `on:` or `yes:` as booleans; say so rather than "unknown key".
                raise ProfileError(
                    self._path,
                    f"keys must be text (got {key!r}; quote it)",
                    key_path=key_path or None,
                    line=line,
                )
            child_path = f"{prefix}{key}"
            if key in mapping:
                first_line = self._locations[child_path][1]
                raise ProfileError(
                    self._path,
                    f"duplicate key (first on line {first_line})",
                    key_path=child_path,
                    line=line,
                )
            self._locations[child_path] = (self._path, line)
            mapping[key] = self.build(value_node, child_path)
        return mapping
