"""A Rich progress bar that listens to the runner."""

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qrbench.session import SessionResult


class RichRunListener:
    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=None)
        self._label = ""

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

    def run_started(self, total_sessions: int, results_path: Path) -> None:
        self._progress.update(self._task, total=total_sessions, description="starting")
        self._console.print(f"[dim]results: {results_path}[/dim]")

    def session_started(self, number: int, warmup: bool) -> None:
        self._label = f"session {number}" + (" (warmup)" if warmup else "")
        self._progress.update(self._task, description=self._label)

    def stage_started(self, number: int, stage: str) -> None:
        self._progress.update(self._task, description=f"{self._label} · {stage}")

    def session_finished(self, result: SessionResult) -> None:
        self._progress.advance(self._task)
        tag = " (warmup, discarded)" if result.warmup else ""
        if result.ok:
            mark = "[green]✓[/green]" if result.within_deadline else "[yellow]![/yellow]"
            self._console.print(
                f"{mark} session {result.number}{tag}: time-to-QR {result.time_to_qr_ms:,.0f} ms"
            )
        else:
            assert result.error is not None
            self._console.print(
                f"[red]✗[/red] session {result.number}{tag}: {result.error.type} in "
                f"{result.error.stage} after {result.error.elapsed_ms:,.0f} ms: "
                f"{result.error.message}"
            )

    def warning(self, message: str) -> None:
        self._console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
