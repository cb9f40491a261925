import dataclasses

import pytest

from qrbench.analysis.summary import Verdict, percentile_with_misses, summarize_run
from qrbench.records import AttemptRecord, SessionError, SessionResult
from tests.helpers import session


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


def test_the_user_percentile_ranks_a_failure_after_every_time() -> None:
    times: list[float | None] = [float(ms) for ms in range(1000, 2900, 100)]  # 19 QRs
    assert percentile_with_misses(times, 95) == 2800.0  # nearest rank 19 of 19
    # One failure among 20: rank 19 is still a QR; one more and the p95 user got none.
    assert percentile_with_misses([*times, None], 95) == 2800.0
    assert percentile_with_misses([*times[1:], None, None], 95) is None
    assert percentile_with_misses([None, 1500.0], 50) == 1500.0
    assert percentile_with_misses([], 95) is None


def retried(number: int, failed_attempts: int, time_to_qr_ms: float | None) -> SessionResult:
    """A session whose first `failed_attempts` attempts hung 3 s each."""
    hung = SessionError("qr_wait", "QrTimeout", "no QR in the page after 3000 ms", 4000.0)
    attempts = [
        AttemptRecord(
            i + 1,
            4100.0 * i,
            4100.0,
            "hang",
            dataclasses.replace(hung, elapsed_ms=4100.0 * i + 4000),
        )
        for i in range(failed_attempts)
    ]
    last = session(number, time_to_qr_ms)
    if time_to_qr_ms is not None:
        attempts.append(
            AttemptRecord(failed_attempts + 1, 4100.0 * failed_attempts, time_to_qr_ms, None, None)
        )
    else:
        last = dataclasses.replace(last, error=attempts[-1].error)
    return dataclasses.replace(last, attempts=attempts)


def test_retries_faults_and_time_to_failure_are_summarised() -> None:
    sessions = [retried(1, 0, 2000.0), retried(2, 1, 6200.0), retried(3, 2, None)]
    summary = summarize_run(sessions, 10_000)
    assert (summary.measured, summary.succeeded, summary.attempts) == (3, 2, 5)
    assert summary.recovered_by_retry == 1
    assert summary.faults == {"hang": 3}
    # Session 2's hung attempt was replaced; session 3's first was, its last was final.
    assert [(f.type, f.count) for f in summary.retried_failures] == [("QrTimeout", 2)]
    assert [(f.type, f.count) for f in summary.failures] == [("QrTimeout", 1)]
    assert summary.time_to_failure_ms is not None
    assert summary.time_to_failure_ms.median == pytest.approx(8100.0)
    assert summary.user_p95_ms is None  # 1 of 3 sessions got no QR: the p95 user is one


def test_a_run_without_failures_has_no_failure_figures() -> None:
    summary = summarize_run([retried(1, 0, 2000.0), retried(2, 0, 2100.0)], 10_000)
    assert summary.time_to_failure_ms is None
    assert summary.retried_failures == []
    assert summary.user_p95_ms == 2100.0
