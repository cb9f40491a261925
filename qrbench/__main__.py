"""`python -m qrbench` and the `qrbench` command.

Ctrl-C outside a run's own handling (while the command line loads SciPy and Playwright,
or a profile) ends qrbench with one line and exit 130, as during a run: not a traceback,
and not Typer's silent exit.
"""

import atexit
import os
import signal
import sys
from types import FrameType
from typing import NoReturn

INTERRUPTED_EXIT_CODE = 130


class _Interrupted(BaseException):
    """SIGINT outside a run. Not a KeyboardInterrupt, which Typer turns into a silent exit."""


# Whether a SIGINT arrived: a library may turn the exception it raised into its own
# without a cause (pydantic-core builds a SchemaError from its message), so the exception
# that reaches `main` cannot always say so itself.
_signalled = False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    global _signalled
    _signalled = True
    raise _Interrupted


def _exit_interrupted() -> NoReturn:
    """One line, then exit 130.

    Not sys.exit: a KeyboardInterrupt that passed through an extension's init code
    (NumPy's, which the command line may import late) leaves Python set to kill itself by
    SIGINT at exit, however it was handled. The exit functions (a private Redis's
    finalizer) still run first.
    """
    sys.stderr.write("qrbench: interrupted (SIGINT)\n")
    sys.stderr.flush()
    sys.stdout.flush()
    atexit._run_exitfuncs()
    os._exit(INTERRUPTED_EXIT_CODE)


def _interrupted_by(exc: BaseException | None) -> bool:
    if _signalled:
        return True
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt | _Interrupted):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main() -> None:
    try:
        from qrbench.cli import main as run_command_line

        # A SIGINT the shell told us to ignore (a background job) stays ignored.
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
    except BaseException as exc:
        # A library may re-raise the interrupt as its own error (`raise ... from`).
        if not _interrupted_by(exc):
            raise
        _exit_interrupted()
    try:
        run_command_line()
    except (_Interrupted, Exception) as exc:
        if not _interrupted_by(exc):
            raise
        _exit_interrupted()


if __name__ == "__main__":
    main()
