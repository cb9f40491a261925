"""Rich renderings of a run's summary."""

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from qrbench.analysis.stats import MetricSummary
from qrbench.analysis.summary import USER_PERCENTILE, FailureCount, RunSummary, Verdict
from qrbench.records import UNKNOWN
from qrbench.report.wording.caveats import run_warning
from qrbench.report.wording.numbers import format_ms, format_rate
from qrbench.report.wording.run import otlp_refusals, webhook_refusals


def run_table(title: str, summary: RunSummary) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("stage")
    table.add_column("kind", style="dim")
    table.add_column("n", justify="right")
    table.add_column("median ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("max ms", justify="right")
    for stage in summary.stages:
        timing = stage.timing
        table.add_row(
            stage.name,
            "critical" if stage.critical else "background",
            str(timing.n),
            format_ms(timing.median),
            format_ms(timing.p95),
            format_ms(timing.max),
        )
    table.add_section()
    ttq = summary.time_to_qr_ms
    over = ttq is not None and ttq.p95 > summary.deadline_ms
    _headline_row(
        table,
        Text("time-to-QR", style="bold"),
        f"target {format_ms(summary.deadline_ms)}",
        ttq,
        "bold red" if over else "bold green",
    )
    if summary.qr_delivered_ms is not None:
        _headline_row(table, Text("QR delivered"), "receiver 200", summary.qr_delivered_ms, "")
    if summary.time_to_ready_ms is not None:
        _headline_row(table, Text("time-to-ready"), "after scan", summary.time_to_ready_ms, "")
    return table


def _headline_row(
    table: Table, label: Text, kind: str, timing: MetricSummary | None, style: str
) -> None:
    if timing is None:
        table.add_row(label, kind, "0", "-", "-", "-")
        return
    table.add_row(
        label,
        kind,
        str(timing.n),
        Text(format_ms(timing.median), style=style),
        Text(format_ms(timing.p95), style=style),
        Text(format_ms(timing.max), style=style),
    )


def verdict_line(summary: RunSummary) -> Text:
    deadline_s = summary.deadline_ms / 1000
    colour = "green" if summary.verdict is Verdict.PASS else "red"
    text = Text()
    text.append(f" {summary.verdict.value} ", style=f"bold white on {colour}")
    text.append(
        f"  {summary.within_deadline}/{summary.measured} sessions showed a verified QR "
        f"within {deadline_s:g} s"
    )
    if summary.succeeded != summary.within_deadline:
        text.append(f" ({summary.succeeded} succeeded in all)")
    ttq = summary.time_to_qr_ms
    if ttq is not None:
        text.append(
            f"; median time-to-QR {format_ms(ttq.median)} ms "
            f"(95% CI {format_ms(ttq.median_ci_low)} to {format_ms(ttq.median_ci_high)})"
        )
    return text


def resources_line(summary: RunSummary) -> Text | None:
    if summary.peak_rss_mb is None or summary.cpu_time_s is None:
        return None
    rss: MetricSummary = summary.peak_rss_mb
    cpu: MetricSummary = summary.cpu_time_s
    profile = summary.profile_dir_mb
    on_disk = (
        ""
        if profile is None
        else f"; profile dir on disk median {profile.median:,.1f} MB (max {profile.max:,.1f})"
    )
    return Text(
        f"Chromium process tree per session: peak RSS median {rss.median:,.0f} MB "
        f"(max {rss.max:,.0f}), CPU time median {cpu.median:.2f} s (max {cpu.max:.2f})" + on_disk,
        style="dim",
    )


def reliability_lines(summary: RunSummary) -> list[Text]:
    """Success, retries, faults and time to failure; nothing when every session went well."""
    if summary.measured == 0 or (
        summary.succeeded == summary.measured and summary.attempts <= summary.measured
    ):
        return []
    success = f"success rate {format_rate(summary.succeeded, summary.measured)}"
    if summary.recovered_by_retry:
        success += f", {summary.recovered_by_retry} only after a retry"
    success += f"; {summary.attempts} attempts"
    if summary.faults:
        struck = ", ".join(f"{fault} {count}" for fault, count in summary.faults.items())
        success += f"; injected faults: {struck}"
    user_p95 = summary.user_p95_ms
    lines = [
        Text(success),
        Text(
            f"time-to-QR p{USER_PERCENTILE:g} over all sessions, a failure counting as a miss: "
            + ("missed (no QR at all)" if user_p95 is None else f"{format_ms(user_p95)} ms")
        ),
    ]
    failed = summary.time_to_failure_ms
    if failed is not None:
        lines.append(
            Text(
                f"time to failure over {failed.n} failed session(s): median "
                f"{format_ms(failed.median)} ms, p95 {format_ms(failed.p95)}, "
                f"max {format_ms(failed.max)}"
            )
        )
    return lines


def failures_table(title: str, failures: list[FailureCount]) -> Table | None:
    if not failures:
        return None
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("stage")
    table.add_column("error")
    table.add_column("count", justify="right")
    table.add_column("example")
    for failure in failures:
        table.add_row(failure.stage, failure.type, str(failure.count), failure.example)
    return table


def run_report(title: str, summary: RunSummary) -> RenderableType:
    parts: list[RenderableType] = [run_table(title, summary), Text(), verdict_line(summary)]
    resources = resources_line(summary)
    if resources is not None:
        parts.append(resources)
    auth = ", ".join(f"{strategy} {count}" for strategy, count in summary.auth.items())
    cache = ", ".join(f"{outcome} {count}" for outcome, count in summary.web_cache.items())
    # A gateway timed from outside knows neither: nothing to say.
    if set(summary.auth) | set(summary.web_cache) != {UNKNOWN}:
        parts.append(Text(f"auth: {auth}; web-version cache: {cache}", style="dim"))
    parts.extend(reliability_lines(summary))
    refusals = webhook_refusals(summary.webhook_rejected)
    if refusals is not None:
        parts.append(Text(f"warning: {refusals}", style="yellow"))
    dropped = otlp_refusals(summary.otlp_refused)
    if dropped is not None:
        parts.append(Text(dropped, style="dim"))
    for title, failures in (
        ("Failures", summary.failures),
        ("Failed attempts a retry replaced", summary.retried_failures),
        ("Background failures (the QR was still delivered)", summary.background_failures),
    ):
        table = failures_table(title, failures)
        if table is not None:
            parts.extend([Text(), table])
    for caveat in summary.caveats:
        parts.append(Text(f"warning: {run_warning(caveat)}", style="yellow"))
    return Group(*parts)


def print_run(console: Console, title: str, summary: RunSummary) -> None:
    console.print()
    console.print(run_report(title, summary))
