"""qrbench's own exception types, one per boundary.

The CLI catches `QrbenchError` once and turns it into one line and `exit_code`.
Errors inside a session never reach the CLI: they become a failed session record.
"""


class QrbenchError(Exception):
    """Base of every error qrbench reports to the user."""

    exit_code = 3


class ConfigError(QrbenchError):
    """A profile, scenario or command-line value is unusable. Exit code 2."""

    exit_code = 2


class EnvironmentProblem(QrbenchError):
    """The machine cannot run a benchmark (no Chromium, no Redis, ...). Exit code 3."""

    exit_code = 3


class ReplicaError(QrbenchError):
    """The local WhatsApp Web replica could not start or serve."""

    exit_code = 3


class SessionFailure(Exception):
    """Something went wrong inside one session.

    Never reaches the CLI: the session turns it into a recorded failure whose
    `type` is the subclass name, so results read "QrTimeout", not a traceback.
    """


class BrowserLaunchFailed(SessionFailure):
    """Chromium did not start (or did not answer) within `browser.timeout_ms`."""


class BrowserCrashed(SessionFailure):
    """The browser or the page died while the session needed it."""


class BrowserError(SessionFailure):
    """Chromium answered a protocol call with an error."""


class ProtocolTimeout(SessionFailure):
    """A protocol call (navigation, screenshot, ...) outlived `browser.protocol_timeout_ms`."""


class NavigationFailed(SessionFailure):
    """The index page did not reach its `load` event."""


class WebCacheMiss(SessionFailure):
    """A strict web-version cache had no HTML for the requested version."""


class QrTimeout(SessionFailure):
    """No QR appeared in the page within `browser.timeout_ms`."""


class ReadyTimeout(SessionFailure):
    """The phone scanned, but the page never reached its logged-in state."""


class QrMismatch(SessionFailure):
    """The canvas did not decode to the page's `data-ref`."""


class AuthTimeout(SessionFailure):
    """The page never set `window.Debug.VERSION` (whatsapp-web.js's authTimeoutMs)."""


class QrRetriesExhausted(SessionFailure):
    """Nobody scanned before the client gave up after `qr.max_retries` refreshed QRs."""


class GatewayFailed(SessionFailure):
    """The gateway under test answered a request with an error, garbage, or not at all."""


class QrUnreadable(SessionFailure):
    """The gateway's QR is no QR qrbench can read, or not in WhatsApp's form."""
