"""A gateway profile's `gateway:` section: how qrbench starts a session in the user's own
service, where it sees the QR, and how it ends the session (docs/gateway.md)."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from qrbench.config.strict import StrictModel, is_url
from qrbench.config.templates import (
    SAVED_PREFIX,
    SERVICE_PLACEHOLDERS,
    SESSION_PLACEHOLDERS,
    check_template,
    placeholders,
    strings_in,
)

_HTTP = ("http", "https")


def _session_template(text: str) -> str:
    check_template(text, SESSION_PLACEHOLDERS, saved=True)
    return text


def _service_template(text: str) -> str:
    check_template(text, SERVICE_PLACEHOLDERS)
    return text


def _literal(text: str) -> str:
    check_template(text, frozenset())
    return text


# Each checked on its own, so an error names its own key and line.
SessionTemplate = Annotated[str, AfterValidator(_session_template)]
ServiceTemplate = Annotated[str, AfterValidator(_service_template)]
PlainText = Annotated[str, AfterValidator(_literal)]


class GatewayRequest(StrictModel):
    """One HTTP request; its URL, headers and the strings of its JSON body are templates."""

    method: str = Field(default="POST", pattern=r"^[A-Z]+$")
    url: SessionTemplate
    headers: dict[PlainText, SessionTemplate] = Field(default_factory=dict)
    # JSON sent as the body; None sends none.
    body: Any = None
    # Values of the answer the session's later requests name: `{saved.NAME}` for the
    # value at each dotted path (a token the gateway hands out).
    save: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict
    )

    @field_validator("body")
    @classmethod
    def _body_templates(cls, body: Any) -> Any:
        for text in strings_in(body):
            check_template(text, SESSION_PLACEHOLDERS, saved=True)
        return body

    def saved_names(self) -> list[str]:
        """The `{saved.NAME}`s this request's templates use."""
        texts = [self.url, *self.headers.values(), *strings_in(self.body)]
        return [
            name.removeprefix(SAVED_PREFIX)
            for text in texts
            for name in placeholders(text)
            if name.startswith(SAVED_PREFIX)
        ]


class QrSource(StrEnum):
    RESPONSE = "response"  # the start request's answer carries the QR
    POLL = "poll"  # a request qrbench repeats until the QR is there
    WEBHOOK = "webhook"  # the gateway posts it to qrbench's receiver, `{webhook_url}`


class QrFormat(StrEnum):
    TEXT = "text"  # the QR's string itself
    IMAGE = "image"  # a PNG, as a data: URL or bare base64, decoded by qrbench


class GatewayWebhook(StrictModel):
    """How qrbench's receiver reads the gateway's own events for the QR."""

    # Signed as qrbench's receiver checks (HMAC-SHA256 of `timestamp.body` with the
    # profile's webhook secret, `{webhook_secret}`); false takes the gateway's own
    # unsigned events.
    signed: bool = True
    # Where an event says what it is, and the values that carry the QR (empty: any).
    event_field: str = Field(default="event", min_length=1)
    events: list[str] = Field(default_factory=list)
    # Where an event names its session: the value qrbench sent as `{session}`.
    session_field: str = Field(default="data.session_id", min_length=1)


class GatewayQr(StrictModel):
    source: QrSource = QrSource.RESPONSE
    # Where the QR is in the JSON answer: a dotted path (`data.qr`).
    field: str = Field(default="qr", min_length=1)
    format: QrFormat = QrFormat.TEXT
    # The string must be WhatsApp's `ref,noise key,identity key,adv secret` form.
    whatsapp_form: bool = True
    # source poll: the request repeated, every interval_ms, until the QR is there.
    poll: GatewayRequest | None = None
    interval_ms: int = Field(default=250, gt=0)
    # Where the answer says how the session is, and the values that mean "no QR yet":
    # an answer in such a state is polled again; any other without a QR is a failure.
    status_field: str | None = None
    pending: list[str | bool | int] = Field(default_factory=list)
    # HTTP statuses of a poll's answer that mean "no QR yet" too (WAHA answers 422).
    pending_http: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    # source webhook: how the gateway's events are read.
    webhook: GatewayWebhook = Field(default_factory=GatewayWebhook)

    @model_validator(mode="after")
    def _fits_the_source(self) -> "GatewayQr":
        if self.source is QrSource.POLL and self.poll is None:
            raise ValueError("poll: required when source is poll (the request to repeat)")
        if self.source is not QrSource.POLL and self.poll is not None:
            raise ValueError("poll: only for source poll")
        if self.source is not QrSource.WEBHOOK and "webhook" in self.model_fields_set:
            raise ValueError("webhook: only for source webhook")
        if self.source is not QrSource.POLL and self.pending_http:
            raise ValueError("pending_http: only for source poll")
        return self


class GatewayTraces(StrictModel):
    """OpenTelemetry: qrbench's trace context on its requests, the gateway's spans back."""

    # Send a W3C `traceparent` on the before, start and poll requests, and keep the spans
    # the gateway exports to qrbench's OTLP endpoint for that trace.
    enabled: bool = True
    # How long after each session's QR to wait for its spans still on their way.
    wait_ms: int = Field(default=1000, ge=0)
    # qrbench's OTLP endpoint on this port rather than a free one: for a gateway started
    # by hand, told OTEL_EXPORTER_OTLP_ENDPOINT before qrbench runs.
    port: int | None = Field(default=None, ge=1, le=65535)


class Gateway(StrictModel):
    # The gateway's base URL: `{url}` in templates, where `ready` and requests point.
    url: PlainText
    # Started by qrbench before the first session and stopped after the last (its whole
    # process tree), when given; otherwise the gateway is already running at `url`.
    command: list[ServiceTemplate] = Field(default_factory=list)
    env: dict[PlainText, ServiceTemplate] = Field(default_factory=dict)
    # Answers 2xx once the gateway takes sessions: waited for before the first session.
    ready: ServiceTemplate | None = None
    ready_timeout_ms: int = Field(default=60000, gt=0)
    # Sent in order before the start, on the session's clock (a token to ask for first).
    before: list[GatewayRequest] = Field(default_factory=list)
    # Bounds each request, and the wait from the start's answer to the QR.
    request_timeout_ms: int = Field(default=60000, gt=0)
    qr_timeout_ms: int = Field(default=60000, gt=0)
    start: GatewayRequest
    qr: GatewayQr = Field(default_factory=GatewayQr)
    # Sent after every session, whatever happened, so no session is left in the gateway.
    stop: list[GatewayRequest] = Field(default_factory=list)
    traces: GatewayTraces = Field(default_factory=GatewayTraces)

    @field_validator("url")
    @classmethod
    def _base_url(cls, url: str) -> str:
        if not is_url(url, _HTTP):
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _ready_with_a_command(self) -> "Gateway":
        if self.command and self.ready is None:
            raise ValueError("ready: required with command (the URL that answers once it is up)")
        return self

    @model_validator(mode="after")
    def _saved_before_use(self) -> "Gateway":
        # A value is saved by `before` requests or the start, in order, before it is named.
        saved: set[str] = set()
        polls = [] if self.qr.poll is None else [("qr.poll", self.qr.poll)]
        steps = [
            *((f"before[{index}]", request) for index, request in enumerate(self.before)),
            ("start", self.start),
            *polls,
            *((f"stop[{index}]", request) for index, request in enumerate(self.stop)),
        ]
        for where, request in steps:
            for name in request.saved_names():
                if name not in saved:
                    raise ValueError(
                        f"{where}: {{{SAVED_PREFIX}{name}}} is not saved by an earlier request "
                        f"(save: {{{name}: PATH}} on a before request or the start)"
                    )
            if where.startswith(("before", "start")):
                saved |= set(request.save)
            elif request.save:
                raise ValueError(f"{where}: save: only on before requests and the start")
        return self


def reference_gateway() -> Gateway:
    """The gateway of a profile that names none: qrbench's reference gateway, started by
    qrbench on a free port with the profile's own knobs (docs/gateway.md)."""
    return Gateway(
        url="http://127.0.0.1:0",
        # Traced with OpenTelemetry when qrbench gives it an endpoint (docs/tracing.md).
        command=["node", "--require", "{node_tracing}", "{reference_gateway}"],
        env={
            "GATEWAY_PORT": "{port}",
            "GATEWAY_CLIENT_OPTIONS": "{client_options}",
            "GATEWAY_AUTH": "{auth}",
            "GATEWAY_REDIS_URL": "{redis_url}",
            "GATEWAY_BACKUP_SYNC_INTERVAL_MS": "{backup_sync_interval_ms}",
            "GATEWAY_WEBHOOK_MODE": "{webhook_mode}",
            "GATEWAY_WEBHOOK_URL": "{webhook_url}",
            "GATEWAY_WEBHOOK_SECRET": "{webhook_secret}",
            "GATEWAY_DB_UPDATES": "{db_updates}",
            "GATEWAY_INSTANCES": "{instances}",
            "OTEL_SERVICE_NAME": "reference-gateway",
        },
        ready="{url}/health",
        start=GatewayRequest(method="POST", url="{url}/sessions/{session}?wait=qr"),
        stop=[GatewayRequest(method="DELETE", url="{url}/sessions/{session}")],
    )
