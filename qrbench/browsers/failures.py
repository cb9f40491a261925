"""What a Playwright error means for a session, in qrbench's terms."""

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from qrbench.errors import BrowserCrashed, BrowserError, ProtocolTimeout, SessionFailure


def first_line(exc: BaseException) -> str:
    """Playwright messages carry a multi-line call log; the first line says what happened."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def translate(exc: PlaywrightError) -> SessionFailure:
    """Playwright's errors, in qrbench's terms, for a call made to a running browser."""
    message = first_line(exc)
    if isinstance(exc, PlaywrightTimeout):
        return ProtocolTimeout(message)
    if "closed" in message or "crash" in message.lower():
        return BrowserCrashed(message)
    return BrowserError(message)
