"""Templates in a gateway profile: `{placeholder}`s qrbench fills per run or per session,
and `${VARIABLE}`s read from the environment at the moment of use.

A secret (an API key) lives in an environment variable the profile names, so the profile,
the results and every message quote the template, never the value.
"""

import os
import re
from collections.abc import Iterator, Mapping

# What qrbench knows before any session (docs/gateway.md): the gateway's base URL and
# port; the Chromium it should use with the flags that reach the replica; the profile's
# own knobs as whatsapp-web.js Client options and its auth, Redis, webhook, DB updates
# and instances; qrbench's receiver and OTLP endpoint; and where the reference gateway's
# script and the Node tracing (`node --require`) are.
SERVICE_PLACEHOLDERS = frozenset(
    {
        "url",
        "port",
        "chromium",
        "chromium_args",
        "client_options",
        "auth",
        "redis_url",
        "backup_sync_interval_ms",
        "webhook_mode",
        "webhook_url",
        "webhook_secret",
        "db_updates",
        "instances",
        "otlp_endpoint",
        "node_tracing",
        "reference_gateway",
    }
)
# A session's requests also know the session's id, fresh for each one.
SESSION_PLACEHOLDERS = SERVICE_PLACEHOLDERS | {"session"}

# A value a session's earlier request saved from its answer (`{saved.token}`).
SAVED_PREFIX = "saved."
_SAVED_NAME = re.compile(r"saved\.[A-Za-z_][A-Za-z0-9_]*")
_SECRET = re.compile(r"\$\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_template(text: str, allowed: frozenset[str], *, saved: bool = False) -> None:
    """ValueError naming the first unknown placeholder or unset variable in `text`;
    `saved` allows `{saved.NAME}`s (the gateway checks each is saved somewhere)."""
    for variable in _SECRET.findall(text):
        if not _VARIABLE_NAME.fullmatch(variable):
            raise ValueError(f"${{{variable}}} is not an environment variable's name")
        if variable not in os.environ:
            raise ValueError(f"${{{variable}}}: environment variable {variable} is not set")
    for name in placeholders(text):
        if saved and _SAVED_NAME.fullmatch(name):
            continue
        if name not in allowed:
            known = ", ".join(f"{{{known}}}" for known in sorted(allowed))
            raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")


def placeholders(text: str) -> list[str]:
    """The `{placeholder}` names in `text`, outside its `${VARIABLE}`s."""
    return _PLACEHOLDER.findall(_SECRET.sub("", text))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with its placeholders and environment variables replaced (checked at load)."""
    # Placeholders are filled in the text as written, so a secret's value that happens to
    # contain braces is never read as a placeholder. split() puts each variable's name at
    # the odd indexes.
    pieces = _SECRET.split(text)
    filled: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            filled.append(os.environ.get(piece, ""))
        else:
            filled.append(_PLACEHOLDER.sub(lambda found: values[found.group(1)], piece))
    return "".join(filled)


def strings_in(value: object) -> Iterator[str]:
    """Every string inside a JSON value (a request body's templates)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def fill_json(value: object, values: Mapping[str, str]) -> object:
    """A JSON value with every string in it filled."""
    if isinstance(value, str):
        return fill(value, values)
    if isinstance(value, dict):
        return {key: fill_json(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_json(item, values) for item in value]
    return value
