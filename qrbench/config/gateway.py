"""A gateway profile's `gateway:` section: how qrbench starts a session in the user's own
service, where it sees the QR, and how it ends the session (docs/gateway.md)."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from qrbench.config.strict import StrictModel, is_url
from qrbench.config.templates import (
    SERVICE_PLACEHOLDERS,
    SESSION_PLACEHOLDERS,
    check_template,
    strings_in,
)

_HTTP = ("http", "https")


def _session_template(text: str) -> str:
    check_template(text, SESSION_PLACEHOLDERS)
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

    @field_validator("body")
    @classmethod
    def _body_templates(cls, body: Any) -> Any:
        for text in strings_in(body):
            check_template(text, SESSION_PLACEHOLDERS)
        return body


class QrSource(StrEnum):
    RESPONSE = "response"  # the start request's answer carries the QR
    POLL = "poll"  # a request qrbench repeats until the QR is there


class QrFormat(StrEnum):
    TEXT = "text"  # the QR's string itself
    IMAGE = "image"  # a PNG, as a data: URL or bare base64, decoded by qrbench


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
    pending: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _poll_fits_the_source(self) -> "GatewayQr":
        if self.source is QrSource.POLL and self.poll is None:
            raise ValueError("poll: required when source is poll (the request to repeat)")
        if self.source is not QrSource.POLL and self.poll is not None:
            raise ValueError("poll: only for source poll")
        return self


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
    # Bounds each request, and the wait from the start's answer to the QR.
    request_timeout_ms: int = Field(default=60000, gt=0)
    qr_timeout_ms: int = Field(default=60000, gt=0)
    start: GatewayRequest
    qr: GatewayQr = Field(default_factory=GatewayQr)
    # Sent after every session, whatever happened, so no session is left in the gateway.
    stop: list[GatewayRequest] = Field(default_factory=list)

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


def reference_gateway() -> Gateway:
    """The gateway of a profile that names none: qrbench's reference gateway, started by
    qrbench on a free port with the profile's own knobs (docs/gateway.md)."""
    return Gateway(
        url="http://127.0.0.1:0",
        command=["node", "{reference_gateway}"],
        env={
            "GATEWAY_PORT": "{port}",
            "GATEWAY_CLIENT_OPTIONS": "{client_options}",
            "GATEWAY_AUTH": "{auth}",
            "GATEWAY_REDIS_URL": "{redis_url}",
            "GATEWAY_BACKUP_SYNC_INTERVAL_MS": "{backup_sync_interval_ms}",
            "GATEWAY_WEBHOOK_MODE": "{webhook_mode}",
            "GATEWAY_WEBHOOK_URL": "{webhook_url}",
            "GATEWAY_WEBHOOK_SECRET": "{webhook_secret}",
        },
        ready="{url}/health",
        start=GatewayRequest(method="POST", url="{url}/sessions/{session}?wait=qr"),
        stop=[GatewayRequest(method="DELETE", url="{url}/sessions/{session}")],
    )
