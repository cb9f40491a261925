"""A Rich progress bar that listens to the runner."""

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from qrbench.records import SessionResult


class RichRunListener:
    """Progress bar and a line per finished session; `show_labels` when several profiles run."""

    def __init__(self, console: Console, *, show_labels: bool = False) -> None:
        self._console = console
        self._show_labels = show_labels
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            # Sessions finished per second over the last 30 s, so a long run's estimate
            # follows what it does now: concurrent sessions finish faster than the warmups
            # that ran alone before them, and the warmup pace leaves the window after 30 s.
            # Blank ("-:--:--") until a session has finished.
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            speed_estimate_period=30,
        )
        self._task = self._progress.add_task("starting", total=None)
        # What each session in flight is doing, by (label, number): sessions may overlap.
        self._in_flight: dict[tuple[str, int], tuple[str, str | None]] = {}

    def __enter__(self) -> "RichRunListener":
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def run_started(self, total_sessions: int, results_paths: list[Path]) -> None:
        self._progress.update(self._task, total=total_sessions, description="starting")
        for path in results_paths:
            self._console.print(f"[dim]results: {path}[/dim]")

    def _name(self, label: str, number: int) -> str:
        return f"{label} session {number}" if self._show_labels else f"session {number}"

    def session_started(self, label: str, number: int, warmup: bool) -> None:
        name = self._name(label, number) + (" (warmup)" if warmup else "")
        self._in_flight[(label, number)] = (name, None)
        self._describe()

    def stage_started(self, label: str, number: int, stage: str) -> None:
        name, _ = self._in_flight.get((label, number), (self._name(label, number), None))
        self._in_flight[(label, number)] = (name, stage)
        self._describe()

    def _describe(self) -> None:
        if not self._in_flight:
            description = "finishing"
        elif len(self._in_flight) == 1:
            ((name, stage),) = self._in_flight.values()
            description = name if stage is None else f"{name} · {stage}"
        else:
            description = f"{len(self._in_flight)} sessions in flight"
        self._progress.update(self._task, description=description)

    def session_finished(self, label: str, result: SessionResult) -> None:
        self._in_flight.pop((label, result.number), None)
        self._describe()
        self._progress.advance(self._task)
        name = self._name(label, result.number)
        tag = " (warmup, discarded)" if result.warmup else ""
        struck = [attempt.fault for attempt in result.attempts if attempt.fault is not None]
        if len(result.attempts) > 1:
            tag += f" after {len(result.attempts)} attempts"
        if struck:
            tag += f" [dim](injected: {', '.join(struck)})[/dim]"
        if result.ok:
            mark = "[green]✓[/green]" if result.within_deadline else "[yellow]![/yellow]"
            self._console.print(
                f"{mark} {name}{tag}: time-to-QR {result.time_to_qr_ms:,.0f} ms", highlight=False
            )
        else:
            assert result.error is not None
            self._console.print(
                f"[red]✗[/red] {name}{tag}: {result.error.type} in "
                f"{result.error.stage} after {result.error.elapsed_ms:,.0f} ms: "
                f"{result.error.message}",
                highlight=False,
            )

    def warning(self, message: str) -> None:
        self._console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)

    def notice(self, message: str) -> None:
        self._console.print(f"[dim]{escape(message)}[/dim]", highlight=False)
