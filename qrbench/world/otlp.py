"""qrbench's OTLP/HTTP trace endpoint: the spans a traced gateway exports, kept for the
sessions whose traces qrbench started (docs/tracing.md).

A gateway's OpenTelemetry SDK is given `OTEL_EXPORTER_OTLP_ENDPOINT` = `endpoint` and posts
`ExportTraceServiceRequest`s to `/v1/traces`, as protobuf or as OTLP's JSON. Only spans of
traces a session registered are kept; the rest are counted and dropped, as are bodies
that are malformed (400) or too large (413). Attributes that look like secrets are never
kept. Serves on its own thread and loop (LoopbackServer), so decoding never competes
with the harness's event loop for timing.
"""

import binascii
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from qrbench.errors import EnvironmentProblem
from qrbench.world.loopback import BIND_ADDRESS, LoopbackServer

TRACES_PATH = "/v1/traces"
# Far above what one session's spans take (a few KB), far below what would hurt.
MAX_BODY_BYTES = 4 * 1024 * 1024
_SHUTDOWN_TIMEOUT_S = 1.0
_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
# Attribute keys whose values are never kept: HTTP instrumentations record headers.
_SECRET_KEY = re.compile(
    r"authorization|cookie|api[-_.]?key|secret|token|password|passwd|credential", re.IGNORECASE
)
REDACTED = "[redacted]"
# OTLP's JSON writes these ids as hex; protobuf's JSON mapping reads bytes as base64.
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


class Refusal(StrEnum):
    """Why the endpoint dropped a body or a span; counts go into the run's results."""

    MALFORMED = "malformed body"
    OVERSIZED = "oversized body"
    UNKNOWN_TRACE = "span of an unknown trace"


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str  # hex, as in a traceparent
    span_id: str
    parent_span_id: str | None
    name: str
    service: str
    start_unix_ns: int
    end_unix_ns: int
    ok: bool
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)


class OtlpReceiver:
    """Keeps the spans of registered traces until their session takes them."""

    def __init__(
        self,
        bind_address: str = BIND_ADDRESS,
        max_body_bytes: int = MAX_BODY_BYTES,
        port: int | None = None,
    ) -> None:
        self._bind_address = bind_address
        self._port = port
        self._max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._spans: dict[str, list[ReceivedSpan]] = {}
        # When the last span of each trace came (time.monotonic()).
        self._last_arrival: dict[str, float] = {}
        self._refusals: Counter[Refusal] = Counter()
        # Whether any span of a registered trace ever came; a session that waited for its
        # spans and saw none sets `waited_in_vain`, so later ones do not wait in vain too.
        self.received_any = False
        self.waited_in_vain = False
        self._server = LoopbackServer(
            "OTLP endpoint", EnvironmentProblem, shutdown_timeout_s=_SHUTDOWN_TIMEOUT_S
        )
        self.endpoint = ""

    def start(self) -> str:
        """Listen on the port given, else an ephemeral one; returns the endpoint
        (`http://HOST:PORT`), which an SDK extends with /v1/traces."""
        (address,) = self._server.bind(1, self._bind_address, first_port=self._port)
        self._server.serve(self._apps)
        self.endpoint = f"http://{address}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()

    @property
    def refusals(self) -> dict[str, int]:
        with self._lock:
            return {reason.value: count for reason, count in self._refusals.items()}

    def expect(self, trace_id: str) -> None:
        """Keep the spans of `trace_id` from now on."""
        with self._lock:
            self._spans.setdefault(trace_id, [])

    def spans(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans.get(trace_id, []))

    def last_arrival(self, trace_id: str) -> float | None:
        with self._lock:
            return self._last_arrival.get(trace_id)

    def forget(self, trace_id: str) -> None:
        """Stop keeping `trace_id`: its later spans count as unknown."""
        with self._lock:
            self._spans.pop(trace_id, None)
            self._last_arrival.pop(trace_id, None)

    def _apps(self) -> list[web.Application]:
        app = web.Application(client_max_size=self._max_body_bytes)
        app.router.add_post(TRACES_PATH, self._receive)
        return [app]

    async def _receive(self, request: web.Request) -> web.Response:
        content_type = request.content_type
        try:
            # aiohttp inflates a gzip body itself, and bounds what it inflates.
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(Refusal.OVERSIZED, 413)
        try:
            export = _decoded(body, content_type)
        except ValueError:
            return self._refuse(Refusal.MALFORMED, 400)
        self._keep(_spans_of(export))
        answer = ExportTraceServiceResponse()
        if content_type == _JSON:
            return web.Response(text=json_format.MessageToJson(answer), content_type=_JSON)
        return web.Response(body=answer.SerializeToString(), content_type=_PROTOBUF)

    def _refuse(self, reason: Refusal, status: int) -> web.Response:
        with self._lock:
            self._refusals[reason] += 1
        return web.Response(status=status, text=reason.value)

    def _keep(self, spans: list[ReceivedSpan]) -> None:
        now = time.monotonic()
        with self._lock:
            for span in spans:
                kept = self._spans.get(span.trace_id)
                if kept is None:
                    self._refusals[Refusal.UNKNOWN_TRACE] += 1
                    continue
                kept.append(span)
                self._last_arrival[span.trace_id] = now
                self.received_any = True


def _decoded(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """ValueError when `body` is no ExportTraceServiceRequest in `content_type`."""
    export = ExportTraceServiceRequest()
    if content_type == _PROTOBUF:
        try:
            export.ParseFromString(body)
        except DecodeError as exc:
            raise ValueError(str(exc)) from None
        return export
    if content_type == _JSON:
        try:
            document = json.loads(body)
            json_format.ParseDict(_ids_as_base64(document), export)
        except (ValueError, json_format.ParseError, binascii.Error, TypeError) as exc:
            raise ValueError(str(exc)) from None
        return export
    raise ValueError(f"content type {content_type!r} is neither {_PROTOBUF} nor {_JSON}")


def _ids_as_base64(value: object) -> object:
    """OTLP JSON's hex trace and span ids, as protobuf's JSON mapping reads bytes."""
    if isinstance(value, list):
        return [_ids_as_base64(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        if key in _ID_KEYS and isinstance(item, str):
            converted[key] = binascii.b2a_base64(bytes.fromhex(item), newline=False).decode()
        else:
            converted[key] = _ids_as_base64(item)
    return converted


def _spans_of(export: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in export.resource_spans:
        service = _service_name(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    continue  # no valid ids: it cannot be placed
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        service=service,
                        start_unix_ns=span.start_time_unix_nano,
                        end_unix_ns=max(span.end_time_unix_nano, span.start_time_unix_nano),
                        ok=span.status.code != Status.STATUS_CODE_ERROR,
                        attributes=_attributes(span.attributes),
                    )
                )
    return spans


def _service_name(attributes: Iterable[KeyValue]) -> str:
    for attribute in attributes:
        if attribute.key == "service.name":
            return str(_value(attribute.value))
    return "unknown_service"


def _attributes(attributes: Iterable[KeyValue]) -> dict[str, str | int | float | bool]:
    kept: dict[str, str | int | float | bool] = {}
    for attribute in attributes:
        value = _value(attribute.value)
        kept[attribute.key] = REDACTED if _SECRET_KEY.search(attribute.key) else value
    return kept


def _value(value: AnyValue) -> str | int | float | bool:
    kind = value.WhichOneof("value")
    if kind in ("string_value", "bool_value", "int_value", "double_value"):
        found: str | int | float | bool = getattr(value, kind)
        return found
    # Arrays, maps and bytes: their JSON text, enough to read.
    return json_format.MessageToJson(value, indent=None)
