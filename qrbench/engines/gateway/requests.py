"""The gateway's HTTP API as a profile describes it: a request sent, its JSON answer read.

Every message names the request by its template (`POST {url}/sessions/{session}`), never
by the URL sent: a secret in the URL or a header stays out of results and logs.
"""

import json
from collections.abc import Collection, Mapping
from typing import Any

import aiohttp

from qrbench.config.gateway import GatewayRequest
from qrbench.config.templates import SAVED_PREFIX, fill, fill_json
from qrbench.errors import GatewayFailed

# Enough of an answer to say why, never a whole page of it.
_SHOWN_CHARS = 200


def first_line(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0][:_SHOWN_CHARS] if text else "(empty body)"


def named(request: GatewayRequest) -> str:
    return f"{request.method} {request.url}"


async def send(
    http: aiohttp.ClientSession,
    request: GatewayRequest,
    values: Mapping[str, str],
    timeout_ms: int,
    *,
    also_ok: Collection[int] = (),
    trace_headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """The status and body of a 2xx answer to `request`, or of one whose status is in
    `also_ok`; GatewayFailed with the status and the first line of the body otherwise, or
    when no answer came within `timeout_ms`."""
    body = fill_json(request.body, values)
    try:
        async with http.request(
            request.method,
            fill(request.url, values),
            headers={
                **(trace_headers or {}),
                **{name: fill(value, values) for name, value in request.headers.items()},
            },
            json=body,
            timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000),
        ) as response:
            answer = await response.read()
            if response.status // 100 != 2 and response.status not in also_ok:
                raise GatewayFailed(
                    f"{named(request)} answered HTTP {response.status}: {first_line(answer)}"
                )
            return response.status, answer
    except TimeoutError:
        raise GatewayFailed(f"{named(request)}: no answer within {timeout_ms} ms") from None
    except aiohttp.ClientError as exc:
        # The exception's text may quote the URL sent; its kind and cause do not.
        cause = getattr(exc, "os_error", None)
        reason = f"{type(exc).__name__}" + (f" ({cause.strerror})" if cause else "")
        raise GatewayFailed(f"{named(request)} failed: {reason}") from None


def parse_json(body: bytes, request: GatewayRequest) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise GatewayFailed(f"{named(request)} answered no JSON: {first_line(body)}") from None


def saved(body: bytes, request: GatewayRequest) -> dict[str, str]:
    """The values `request.save` names in its answer, as `{saved.NAME}` fills them."""
    if not request.save:
        return {}
    document = parse_json(body, request)
    values = {}
    for name, path in request.save.items():
        value = at_path(document, path)
        if value is None or isinstance(value, (dict, list)):
            raise GatewayFailed(
                f"{named(request)} answered no value at {path!r} to save as {name}: "
                f"{first_line(body)}"
            )
        values[f"{SAVED_PREFIX}{name}"] = str(value)
    return values


def at_path(document: Any, path: str) -> Any:
    """The value at a dotted path (`data.qr`) of a JSON document; None where it is not."""
    value = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value
