"""What a session leaves behind: its stages, errors, attempts and resources.

These records are written to results files (`qrbench.results`) and read back by the
analysis; they import no browser, server or store code.
"""

from dataclasses import dataclass, field
from enum import StrEnum

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


@dataclass(frozen=True)
class StageTiming:
    name: str
    start_ms: float
    duration_ms: float
    critical: bool
    ok: bool

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class ResourceUsage:
    peak_rss_mb: float
    cpu_time_s: float
    processes: int


@dataclass(frozen=True)
class SessionError:
    stage: str
    type: str
    message: str
    elapsed_ms: float


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of a session, on the session's clock (see qrbench.measure.attempts)."""

    number: int
    start_ms: float
    duration_ms: float  # to the end of its teardown: the next attempt starts after it
    fault: str | None  # the scenario's fault that struck it, if any
    error: SessionError | None


@dataclass(frozen=True)
class SessionResult:
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


def within_deadline(time_to_qr_ms: float | None, profile: Profile) -> bool:
    return time_to_qr_ms is not None and time_to_qr_ms <= profile.target.deadline_s * 1000
