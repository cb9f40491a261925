"""Pydantic's validation errors, reported the one way qrbench reports them."""

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def first_error(error: ValidationError) -> ErrorDetails:
    """The one error of `error` to report."""
    details = error.errors(include_url=False)
    # A misspelt key also leaves the key it meant missing; the typo is the one to report.
    return next((detail for detail in details if detail["type"] == "extra_forbidden"), details[0])


def key_path(detail: ErrorDetails) -> str:
    return ".".join(str(part) for part in detail["loc"])


def plain_message(detail: ErrorDetails) -> str:
    """Pydantic's message in qrbench's words: `must be ...`, `missing (required)`."""
    if detail["type"] == "model_type":
        return "must be a mapping of keys"
    message = detail["msg"]
    for pydantic_phrase, ours in (
        ("Input should be", "must be"),
        ("String should", "must"),
        ("Value error, ", ""),
        ("Field required", "missing (required)"),
    ):
        message = message.replace(pydantic_phrase, ours)
    return message


def describe(error: ValidationError) -> str:
    """`key.path: message` of the error to report, for data that was read from no file."""
    detail = first_error(error)
    return f"{key_path(detail)}: {plain_message(detail)}"
