"""Text read from a results file, made harmless before any console renderer sees it.

A results file is input like any other: a profile name, label, scenario name or error
message in it may hold terminal escape codes (which would retitle, clear or recolour the
user's terminal) or Rich markup (which would restyle the report, or raise on an unmatched
closing tag). `printable` drops the first and escapes the second; `sanitized` applies it
to every string of a report at once, so no renderer has to remember to.

Escaped markup is undone by Rich's markup parser: a report's strings must reach the
screen through it (a str cell or title, `Text.from_markup`), never through `Text(...)`.
"""

import dataclasses
import unicodedata
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, cast

from rich.markup import escape

# Categories never shown as themselves: C0/C1 controls (ESC starts every escape code) and
# format characters (bidi overrides reorder what the terminal shows).
_HIDDEN_CATEGORIES = ("Cc", "Cf")
# A line break inside an error message is layout, not an attack: cells wrap on it.
_KEPT = "\n"

_Report = TypeVar("_Report")


def printable(text: str) -> str:
    """`text` without control or format characters (newlines kept), Rich markup escaped."""
    shown = "".join(
        char
        for char in text
        if char in _KEPT or unicodedata.category(char) not in _HIDDEN_CATEGORIES
    )
    return escape(shown)


def sanitized(report: _Report) -> _Report:
    """A copy of `report` (dataclasses, dicts, lists, tuples and paths of them, as the
    analysis returns) with every string `printable`; numbers and enums unchanged."""
    return cast(_Report, _sanitized(report))


def _sanitized(value: Any) -> Any:
    # Enum values (StrEnum included) are qrbench's own words, and renderers match on them.
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, Path):
        return Path(printable(str(value)))
    if isinstance(value, dict):
        return {_sanitized(key): _sanitized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_sanitized(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _sanitized(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.init
        }
        return dataclasses.replace(value, **changes)
    return value
