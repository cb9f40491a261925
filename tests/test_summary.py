from qrbench.processes import ResourceUsage
from qrbench.session import SessionError, SessionResult
from qrbench.summary import Verdict, summarize_run
from qrbench.timer import StageTiming


def session(number: int, time_to_qr_ms: float | None, *, warmup: bool = False) -> SessionResult:
    ok = time_to_qr_ms is not None
    stages = [StageTiming("page_load", 0.0, 100.0 * number, True, True)]
    return SessionResult(
        number=number,
        session_id=f"s{number}",
        warmup=warmup,
        ok=ok,
        time_to_qr_ms=time_to_qr_ms,
        qr_delivered_ms=None,
        time_to_ready_ms=None,
        within_deadline=ok and time_to_qr_ms is not None and time_to_qr_ms <= 10_000,
        error=None if ok else SessionError("qr_wait", "QrTimeout", "no QR", 30_000.0),
        stages=stages,
        resources=ResourceUsage(peak_rss_mb=300.0, cpu_time_s=1.0, processes=6) if ok else None,
        auth="localauth",
        web_cache="miss",
        refs_seen=1 if ok else 0,
        refs_delivered=1 if ok else 0,
        db_statements=1,
        chats_synced=0,
    )


def test_warmup_sessions_are_left_out() -> None:
    summary = summarize_run(
        [session(1, 90_000.0, warmup=True), session(2, 2000.0), session(3, 2200.0)], 10_000
    )
    assert summary.measured == 2
    assert summary.time_to_qr_ms is not None
    assert summary.time_to_qr_ms.max == 2200.0
    assert summary.verdict is Verdict.PASS


def test_a_late_session_fails_the_verdict_but_still_counts_as_succeeded() -> None:
    summary = summarize_run([session(1, 2000.0), session(2, 12_000.0)], 10_000)
    assert (summary.succeeded, summary.within_deadline) == (2, 1)
    assert summary.verdict is Verdict.FAIL


def test_failures_are_counted_by_stage_and_type_and_kept_out_of_timings() -> None:
    summary = summarize_run([session(1, 2000.0), session(2, None), session(3, None)], 10_000)
    assert summary.verdict is Verdict.FAIL
    assert [(f.stage, f.type, f.count) for f in summary.failures] == [("qr_wait", "QrTimeout", 2)]
    assert summary.time_to_qr_ms is not None and summary.time_to_qr_ms.n == 1
    (page_load,) = summary.stages
    assert page_load.timing.n == 1


def test_no_measured_sessions_is_a_failed_verdict() -> None:
    summary = summarize_run([session(1, 2000.0, warmup=True)], 10_000)
    assert summary.measured == 0
    assert summary.verdict is Verdict.FAIL
