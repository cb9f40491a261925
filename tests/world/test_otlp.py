"""qrbench's OTLP/HTTP endpoint: spans of known traces kept from protobuf and JSON bodies;
unknown traces, malformed and oversized bodies refused and counted; secrets never kept."""

import gzip
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from qrbench.world.otlp import REDACTED, TRACES_PATH, OtlpReceiver


def export_of(trace_id: str, *spans: Span, service: str = "gateway") -> ExportTraceServiceRequest:
    """An export as an OpenTelemetry SDK sends it: one service, one scope, `spans`."""
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))]
    )
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )


def span(
    trace_id: str,
    name: str,
    start_ns: int,
    end_ns: int,
    parent: str = "",
    span_id: str | None = None,
    **attributes: str,
) -> Span:
    return Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=bytes.fromhex(span_id or secrets.token_hex(8)),
        parent_span_id=bytes.fromhex(parent),
        name=name,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=end_ns,
        attributes=[
            KeyValue(key=key, value=AnyValue(string_value=value))
            for key, value in attributes.items()
        ],
        status=Status(code=Status.STATUS_CODE_OK),
    )


def post(endpoint: str, body: bytes, content_type: str, **headers: str) -> int:
    request = urllib.request.Request(
        endpoint + TRACES_PATH, data=body, headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver(max_body_bytes=64 * 1024)
    receiver.start()
    yield receiver
    receiver.stop()


def test_spans_of_a_known_trace_are_kept_from_protobuf(otlp: OtlpReceiver) -> None:
    trace = secrets.token_hex(16)
    otlp.expect(trace)
    parent = secrets.token_hex(8)
    export = export_of(
        trace,
        span(trace, "POST /sessions/:id", 1_000, 9_000, span_id=parent),
        span(trace, "Client.initialize", 2_000, 8_000, parent=parent, authorization="Bearer x"),
    )
    assert post(otlp.endpoint, export.SerializeToString(), "application/x-protobuf") == 200
    server, client = otlp.spans(trace)
    assert (server.name, server.parent_span_id, server.service) == (
        "POST /sessions/:id",
        None,
        "gateway",
    )
    assert (client.parent_span_id, client.start_unix_ns, client.end_unix_ns) == (
        parent,
        2_000,
        8_000,
    )
    # An authorization header an HTTP instrumentation recorded is not kept.
    assert client.attributes == {"authorization": REDACTED}
    assert otlp.received_any and otlp.refusals == {}


def test_otlp_json_with_hex_ids_and_gzip_is_read(otlp: OtlpReceiver) -> None:
    trace, span_id = secrets.token_hex(16), secrets.token_hex(8)
    otlp.expect(trace)
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "g"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace,
                                "spanId": span_id,
                                "name": "qr",
                                "startTimeUnixNano": "5",
                                "endTimeUnixNano": "7",
                                "status": {"code": 2},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    body = gzip.compress(json.dumps(document).encode())
    assert post(otlp.endpoint, body, "application/json", **{"Content-Encoding": "gzip"}) == 200
    (kept,) = otlp.spans(trace)
    assert (kept.span_id, kept.name, kept.service, kept.ok) == (span_id, "qr", "g", False)


def test_unknown_traces_malformed_and_oversized_bodies_are_refused_and_counted(
    otlp: OtlpReceiver,
) -> None:
    known, unknown = secrets.token_hex(16), secrets.token_hex(16)
    otlp.expect(known)
    export = export_of(unknown, span(unknown, "elsewhere", 1, 2), span(unknown, "too", 1, 2))
    assert post(otlp.endpoint, export.SerializeToString(), "application/x-protobuf") == 200
    assert post(otlp.endpoint, b"\xff\xff not protobuf", "application/x-protobuf") == 400
    assert post(otlp.endpoint, b"{not json", "application/json") == 400
    assert post(otlp.endpoint, b"<xml/>", "text/xml") == 400
    assert post(otlp.endpoint, b"x" * (65 * 1024), "application/x-protobuf") == 413
    assert otlp.refusals == {
        "span of an unknown trace": 2,
        "malformed body": 3,
        "oversized body": 1,
    }
    assert otlp.spans(known) == [] and not otlp.received_any


def test_a_forgotten_trace_keeps_nothing_more(otlp: OtlpReceiver) -> None:
    trace = secrets.token_hex(16)
    otlp.expect(trace)
    otlp.forget(trace)
    export = export_of(trace, span(trace, "late", 1, 2))
    assert post(otlp.endpoint, export.SerializeToString(), "application/x-protobuf") == 200
    assert otlp.spans(trace) == []
    assert otlp.refusals == {"span of an unknown trace": 1}
