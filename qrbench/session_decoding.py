"""Checking a results file's sessions at C speed.

`records` checks a session field by field in Python: about 100 us a session, 20 s for two
files of 100k sessions. Here msgspec decodes each session's JSON straight into a struct
checked against types made from the records' own dataclasses, so there is one definition
of a session, in about 3 us. The structs accept nothing the records refuse (the same
types, numbers >= 0, the same defaults for keys older files lack); where msgspec is
stricter (it refuses what it cannot decode exactly), the caller reads the session again
with `SessionResult.from_dict`, which has the last word and words the error.
"""

import functools
import sys
from typing import Annotated, Any, get_origin

import msgspec

from qrbench.records import (
    OLDER_FILE_DEFAULTS,
    Record,
    SessionResult,
    field_shape,
    field_types,
)

# A record's count or amount as `records` accepts it: never negative, an amount finite.
_COUNT = Annotated[int, msgspec.Meta(ge=0)]
_AMOUNT = Annotated[float, msgspec.Meta(ge=0, le=sys.float_info.max)]
_SCALARS: dict[Any, Any] = {str: str, bool: bool, int: _COUNT, float: _AMOUNT}


def _field(kind: Any) -> Any:
    """The msgspec type of a record field's type (see `records.Fields.read`)."""
    bare, nullable, item = field_shape(kind)
    if item is not None:
        decoded: Any = list[struct_of(item)]
    elif bare in _SCALARS:
        decoded = _SCALARS[bare]
    elif bare is dict or get_origin(bare) is dict:
        decoded = dict[str, Any]
    else:
        decoded = struct_of(bare)
    return decoded | None if nullable else decoded


@functools.cache
def struct_of(record: type[Record]) -> type[msgspec.Struct]:
    """A struct with `record`'s fields and types; a session's has the older files' defaults."""
    defaults: dict[str, object] = OLDER_FILE_DEFAULTS if record is SessionResult else {}
    fields: list[tuple[str, Any] | tuple[str, Any, object]] = []
    for name, kind in field_types(record):
        if name in defaults:
            fields.append((name, _field(kind), defaults[name]))
        elif record is SessionResult and name == "refs_delivered":
            # Missing, it is `refs_seen`; only an explicit null is an error.
            fields.append((name, _field(kind) | msgspec.UnsetType, msgspec.UNSET))
        else:
            fields.append((name, _field(kind)))
    return msgspec.defstruct(record.__name__, fields, kw_only=True, gc=False)


@functools.cache
def session_decoder() -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(struct_of(SessionResult))


def decode_session(encoded: msgspec.Raw) -> Any:
    """The session of `encoded` as a struct with SessionResult's attributes.

    Raises msgspec.ValidationError where the JSON is fine but msgspec refuses the session
    (read it again with `SessionResult.from_dict` for the verdict and its wording), and
    msgspec.DecodeError where msgspec cannot decode it at all."""
    return session_decoder().decode(encoded)


# The fields of a session a results reader's `Keep` reads (`columns.SessionView`'s own).
_PICKED = ("number", "warmup", "ok")


@functools.cache
def picking_struct() -> type[msgspec.Struct]:
    """A struct of the few fields that pick a session; msgspec skips the rest unread."""
    kinds = dict(field_types(SessionResult))
    return msgspec.defstruct(
        "PickedSession", [(name, _field(kinds[name])) for name in _PICKED], gc=False
    )
