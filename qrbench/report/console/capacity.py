"""Rich rendering of a capacity ramp: progress per step, the step table, stop and knee."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from qrbench.analysis.capacity import CapacityCheck, CapacityStep, Quantile, StepEnd, StepMemory
from qrbench.analysis.summary import Verdict
from qrbench.config.load import Load
from qrbench.report.console.progress import RichRunListener
from qrbench.report.wording.capacity import capacity_check, criterion_broken, load_label
from qrbench.report.wording.numbers import format_ms, format_seconds

_DASH = "-"


class RichCapacityListener(RichRunListener):
    """The run's progress bar for each step, and a line as each step starts and ends."""

    def step_started(self, number: int, load: Load, sessions: int) -> None:
        self._console.print(
            f"[bold]step {number}: {load_label(load)}, {sessions} sessions[/bold]", highlight=False
        )

    def step_finished(self, step: CapacityStep) -> None:
        if step.meets:
            verdict = "[green]meets the criterion[/green]"
        elif step.end is not StepEnd.COMPLETE:
            verdict = f"[yellow]cut short ({step.end.value})[/yellow]"
        else:
            verdict = f"[red]misses the criterion: {criterion_broken(step)}[/red]"
        high = step.judgement.high
        p95 = _DASH if high is None else format_ms(high.value_ms)
        self._console.print(
            f"step {step.number} ({load_label(step.load)}): p{step.judgement.target.percentile:g} "
            f"{p95} ms, {verdict}",
            highlight=False,
        )


def _with_ci(quantile: Quantile | None) -> Text:
    """The value, and its 95 % CI under it (one side only when too few sessions bound the
    other: the upper bound of p95 needs about 60)."""
    if quantile is None:
        return Text(_DASH)
    low, high = quantile.ci_low_ms, quantile.ci_high_ms
    if low is None and high is None:
        interval = _DASH
    elif high is None:
        interval = f"≥{format_ms(low or 0)}"
    elif low is None:
        interval = f"≤{format_ms(high)}"
    else:
        interval = f"{format_ms(low)}-{format_ms(high)}"
    text = Text(format_ms(quantile.value_ms))
    text.append(f"\n{interval}", style="dim")
    return text


def _mb(value: float | None) -> str:
    return _DASH if value is None else f"{value:,.0f}"


def _trees(memory: StepMemory | None) -> Text:
    """PSS, the honest sum of processes that share pages, over RSS, which counts them in each."""
    if memory is None:
        return Text(_DASH)
    text = Text(_mb(memory.peak_pss_mb))
    text.append(f"\n({_mb(memory.peak_rss_mb)})", style="dim")
    return text


def _result(step: CapacityStep) -> Text:
    if step.meets:
        return Text("meets", style="bold green")
    if step.end is not StepEnd.COMPLETE:
        return Text(f"cut ({step.end.value})", style="bold yellow")
    return Text("misses", style="bold red")


def capacity_table(title: str, steps: list[CapacityStep]) -> Table:
    """One row per step; CIs under their values. Swap is a column when a step used any."""
    percentile = steps[0].judgement.target.percentile if steps else 95
    rates = bool(steps) and steps[0].load.arrival_rate_per_min is not None
    swapped = any(step.swap_used_peak_mb > 0 for step in steps)
    # Two-line headers and one cell of padding between columns: it fits 80 columns.
    table = Table(
        title=title, title_justify="left", show_edge=False, pad_edge=False, collapse_padding=True
    )
    for header in (
        "step",
        "per\nmin" if rates else "in\nflight",
        "ok",
        "p50 ms",
        f"p{percentile:g} ms",
        "CPU\n%",
        "PSS MB\n(RSS)",
        "MB per\nsession",
        *(["swap\nMB"] if swapped else []),
    ):
        table.add_column(header, justify="right")
    table.add_column("result")
    for step in steps:
        judged, memory = step.judgement, step.memory
        load = step.load
        table.add_row(
            str(step.number),
            f"{load.arrival_rate_per_min:g}" if rates else str(load.concurrency),
            f"{judged.succeeded}/{judged.sessions}",
            _with_ci(judged.p50),
            _with_ci(judged.high),
            f"{step.cpu_percent:.0f}",
            _trees(memory),
            _mb(None if memory is None else memory.per_session_mb),
            *([f"{step.swap_used_peak_mb:,.0f}"] if swapped else []),
            _result(step),
        )
    return table


def print_capacity(
    console: Console,
    title: str,
    steps: list[CapacityStep],
    stop_line: str,
    knee_line: str,
    elapsed_s: float,
) -> None:
    console.print()
    console.print(capacity_table(title, steps))
    console.print()
    console.print(Text(stop_line), highlight=False)
    console.print(Text(knee_line, style="bold"), highlight=False)
    console.print(f"[dim]the ramp took {format_seconds(elapsed_s * 1000)}[/dim]", highlight=False)


def print_capacity_gate(console: Console, check: CapacityCheck) -> None:
    style = "bold green" if check.status is Verdict.PASS else "bold red"
    verdict = Text()
    verdict.append(f" {check.status.value} ", style=f"{style} reverse")
    verdict.append(f"  {capacity_check(check)}")
    console.print(verdict)
