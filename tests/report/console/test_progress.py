"""The progress listener: what each session in flight does, and a line per finished one."""

import io
import re

from rich.console import Console
from rich.progress import TimeRemainingColumn

from qrbench.report.console.progress import RichRunListener
from tests.helpers import session


def description(listener: RichRunListener) -> str:
    (task,) = listener._progress.tasks
    return str(task.description)


def test_the_bar_names_the_one_session_in_flight_and_counts_overlapping_ones() -> None:
    output = io.StringIO()
    with RichRunListener(Console(file=output, width=100), show_labels=True) as listener:
        listener.run_started(3, [])
        listener.session_started("old", 1, warmup=True)
        listener.stage_started("old", 1, "page_load")
        assert description(listener) == "old session 1 (warmup) · page_load"
        listener.session_started("new", 2, warmup=False)
        assert description(listener) == "2 sessions in flight"
        listener.session_finished("old", session(1, 1234.0))
        assert description(listener) == "new session 2"
        listener.stage_started("new", 2, "qr_wait")
        assert description(listener) == "new session 2 · qr_wait"
        listener.session_finished("new", session(2, 987.0))
    assert "old session 1: time-to-QR 1,234 ms" in output.getvalue()
    assert "new session 2: time-to-QR 987 ms" in output.getvalue()


def eta_shown(listener: RichRunListener) -> str:
    (task,) = listener._progress.tasks
    (column,) = [c for c in listener._progress.columns if isinstance(c, TimeRemainingColumn)]
    return str(column.render(task))


def test_the_eta_appears_once_sessions_finish_and_counts_what_is_left() -> None:
    with RichRunListener(Console(file=io.StringIO(), width=100)) as listener:
        listener.run_started(6, [])
        listener.session_started("optimized", 1, warmup=True)
        # Nothing finished: no pace to go by, so no guess.
        assert eta_shown(listener) == "-:--:--"
        listener.session_finished("optimized", session(1, 900.0, warmup=True))
        listener.session_finished("optimized", session(2, 900.0))
        (task,) = listener._progress.tasks
        assert task.remaining == 4
        assert task.time_remaining is not None
        assert re.fullmatch(r"\d+:\d\d:\d\d", eta_shown(listener))
