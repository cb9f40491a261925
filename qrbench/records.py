"""What a session leaves behind: its stages, errors, attempts and resources.

These records are written to results files (`qrbench.results`) and read back by the
analysis; they import no browser, server or store code. Reading checks every field once,
here, so the analysis can trust the types: a bad file is one `RecordError` naming the field.
"""

import functools
import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from enum import StrEnum
from typing import Any, Self, get_args, get_origin, get_type_hints

from qrbench.config.models import Profile


class Stage(StrEnum):
    """The stages of the QR path, in order (docs/architecture.md)."""

    ROUTE = "route"
    AUTH_RESTORE = "auth_restore"
    BROWSER_LAUNCH = "browser_launch"
    WEB_VERSION = "web_version"
    PAGE_LOAD = "page_load"
    QR_WAIT = "qr_wait"
    QR_DEDUPE = "qr_dedupe"
    QR_ENCODE = "qr_encode"
    WEBHOOK = "webhook"
    DB_UPDATE = "db_update"
    QR_VERIFY = "qr_verify"
    CHAT_SYNC = "chat_sync"
    BACKUP_SYNC = "backup_sync"
    # The gateway engine's own path (request, then qr_wait), timed from outside
    # (docs/gateway.md).
    REQUEST = "request"
    QR_DECODE = "qr_decode"


class RecordError(ValueError):
    """A record that is not one qrbench writes; the message names the field, e.g. `stages[2].ok`."""


_SHOWN_CHARS = 40


def shown(value: object) -> str:
    """A JSON value as an error message quotes it: short, and never the whole of a big one."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        return "an integer too large for a float"
    text = json.dumps(value, default=repr)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


# Exact type checks: JSON's true is an int to Python, and a count or time is never a bool.
def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_amount(value: object) -> bool:
    if type(value) is float:
        return 0 <= value < math.inf  # NaN compares false
    # An integer beyond any float: no statistic could use it.
    return type(value) is int and 0 <= value <= sys.float_info.max


# What each scalar field type of a record accepts from JSON, and how a message names it.
# Every float of a record is a time in ms, a size in MB or CPU seconds: finite, never < 0.
_SCALARS: dict[type, tuple[Callable[[object], bool], str]] = {
    str: (lambda value: isinstance(value, str), "a string"),
    bool: (lambda value: isinstance(value, bool), "true or false"),
    int: (_is_count, "a whole number >= 0"),
    float: (_is_amount, "a finite number >= 0"),
}


@functools.cache
def field_shape(kind: Any) -> tuple[Any, bool, Any]:
    """`kind` without `| None`, whether it allows None, and its item type if it is a list.

    Cached: taking a type apart costs more than checking a value, once per field of every
    session of a file.
    """
    args = get_args(kind)
    nullable = type(None) in args
    if nullable:
        (kind,) = [arg for arg in args if arg is not type(None)]
    item = get_args(kind)[0] if get_origin(kind) is list else None
    return kind, nullable, item


class Fields:
    """One JSON object, each key read as a record's field type or a `RecordError`.

    `where` is the object's path for messages (`error`, `stages[2]`); "" at the top.
    """

    def __init__(self, data: object, where: str = "") -> None:
        if not isinstance(data, dict):
            problem = f"expected an object, got {shown(data)}"
            raise RecordError(f"{where}: {problem}" if where else problem)
        self.data: dict[str, Any] = data
        self.where = where

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _value(self, key: str) -> object:
        if key not in self.data:
            raise RecordError(f"{self.path(key)}: missing")
        return self.data[key]

    def read(self, key: str, kind: Any) -> Any:
        """The value at `key` as `kind`: str, bool, int, float, dict, a record, a list of
        records, or any of them `| None`."""
        value = self._value(key)
        kind, nullable, item = field_shape(kind)
        if nullable and value is None:
            return None
        expected = " or null" if nullable else ""
        scalar = _SCALARS.get(kind)
        if scalar is not None:
            accept, what = scalar
            if not accept(value):
                raise RecordError(
                    f"{self.path(key)}: expected {what}{expected}, got {shown(value)}"
                )
            return float(value) if kind is float else value
        if item is not None:
            items = enumerate(self.items(key))
            return [item.from_dict(each, f"{self.path(key)}[{i}]") for i, each in items]
        if not isinstance(value, dict):
            raise RecordError(f"{self.path(key)}: expected an object{expected}, got {shown(value)}")
        return value if dict in (kind, get_origin(kind)) else kind.from_dict(value, self.path(key))

    def nested(self, key: str) -> "Fields":
        return Fields(self._value(key), self.path(key))

    def items(self, key: str) -> list[object]:
        value = self._value(key)
        if not isinstance(value, list):
            raise RecordError(f"{self.path(key)}: expected a list, got {shown(value)}")
        return value


class Record:
    """A record of a results file: written with `to_dict`, read back with `from_dict`."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str = "") -> Self:
        """`data` as this record, each field checked against its type; raises RecordError."""
        fields = Fields(data, where)
        return cls(**{name: fields.read(name, kind) for name, kind in field_types(cls)})


@functools.cache
def field_types(record: type[Record]) -> tuple[tuple[str, Any], ...]:
    # Resolving the annotations costs more than checking a record: a file of 100k sessions
    # would resolve them a million times.
    types = get_type_hints(record)
    return tuple((f.name, types[f.name]) for f in dataclass_fields(record))


# The service of the replica page's own spans (its work between load and socket, which
# the page reports), beside a traced gateway's: docs/replica.md.
PAGE_SERVICE = "web.whatsapp.com"

# A session's `auth` and `web_cache` when its engine cannot see them (a gateway timed from
# outside).
UNKNOWN = "unknown"


class _OnSessionClock(Record):
    """A record that starts and lasts on the session's clock (a stage, a span)."""

    start_ms: float
    duration_ms: float

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.duration_ms

    def to_dict(self) -> dict[str, Any]:
        # Timed to the microsecond; a tenth of a millisecond is all such a time means.
        return {
            **super().to_dict(),
            "start_ms": round(self.start_ms, 1),
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass(frozen=True)
class SpanTiming(_OnSessionClock):
    """A span the gateway exported for the session's trace (OpenTelemetry), moved onto
    the session's clock: the gateway's own account of where its time went."""

    name: str
    service: str
    span_id: str
    # The span it is nested in; None for one made in the context of qrbench's request.
    parent_span_id: str | None
    start_ms: float
    duration_ms: float
    # The black-box stage its start falls in; None before the first or after the last.
    stage: str | None
    ok: bool  # its status is not ERROR


@dataclass(frozen=True)
class StageTiming(_OnSessionClock):
    name: str
    start_ms: float
    duration_ms: float
    critical: bool
    ok: bool


@dataclass(frozen=True)
class ResourceUsage(Record):
    peak_rss_mb: float
    cpu_time_s: float
    processes: int


@dataclass(frozen=True)
class SessionError(Record):
    stage: str
    type: str
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class AttemptRecord(Record):
    """One attempt of a session, on the session's clock (see qrbench.measure.attempts)."""

    number: int
    start_ms: float
    duration_ms: float  # to the end of its teardown: the next attempt starts after it
    fault: str | None  # the scenario's fault that struck it, if any
    error: SessionError | None


# Keys qrbench added to schema 1 after its first release, and what a file written before
# them recorded: LocalAuth only, no webhook, DB, phone scan or retries.
_ADDED_IN_SCHEMA_1: dict[str, object] = {
    "qr_delivered_ms": None,
    "time_to_ready_ms": None,
    "auth": "localauth",
    "db_statements": 0,
    "chats_synced": 0,
    "background_errors": [],
    "attempts": [],
    "spans": [],
    "profile_dir_mb": None,
}

# When the scheduler meant a session to start and when it did (results/README.md).
_STARTS = ("scheduled_start_ms", "started_ms")

# What a session's keys hold when a file written before them lacks them; `refs_delivered`
# aside, which is then `refs_seen`.
OLDER_FILE_DEFAULTS: dict[str, object] = {**_ADDED_IN_SCHEMA_1, **dict.fromkeys(_STARTS)}


@dataclass(frozen=True)
class SessionResult(Record):
    number: int
    session_id: str
    warmup: bool
    ok: bool
    time_to_qr_ms: float | None
    qr_delivered_ms: float | None
    time_to_ready_ms: float | None
    within_deadline: bool
    error: SessionError | None
    stages: list[StageTiming]
    resources: ResourceUsage | None
    auth: str
    web_cache: str
    refs_seen: int
    refs_delivered: int
    db_statements: int
    chats_synced: int
    background_errors: list[SessionError] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)
    # On the run's clock (ms from its first session's start): when the scheduler meant the
    # session to start and when it did; an open loop's lateness is the difference.
    scheduled_start_ms: float | None = None
    started_ms: float | None = None
    # engine gateway: the spans its gateway exported for this session, oldest first.
    spans: list[SpanTiming] = field(default_factory=list)
    # The browser profile the session left on disk (its LocalAuth or RemoteAuth dir), after
    # the browser closed; None where it is not on this machine (a gateway's own).
    profile_dir_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The session as the results file records it (results/README.md)."""
        recorded = {
            **super().to_dict(),
            "stages": [stage.to_dict() for stage in self.stages],
            "spans": [span.to_dict() for span in self.spans],
        }
        # A session read from a file written before starts were recorded writes back as it
        # was; the runner records both for every session it runs.
        for key in _STARTS:
            if recorded[key] is None:
                del recorded[key]
        # Only a traced gateway's sessions have spans; the others' records stay as they were.
        if not self.spans:
            del recorded["spans"]
        if self.profile_dir_mb is None:
            del recorded["profile_dir_mb"]
        return recorded

    @classmethod
    def from_dict(cls, data: object, where: str = "") -> Self:
        known = Fields(data, where).data
        # Before dedupe existed, the gateway passed on every ref it saw.
        older = {**OLDER_FILE_DEFAULTS, "refs_delivered": known.get("refs_seen")}
        return super().from_dict({**older, **known}, where)


def within_deadline(time_to_qr_ms: float | None, profile: Profile) -> bool:
    return time_to_qr_ms is not None and time_to_qr_ms <= profile.target.deadline_s * 1000
