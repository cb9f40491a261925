"""The run's report: the lines under its table that only some runs have."""

from rich.console import Console

from qrbench.analysis.summary import RunSummary, summarize_run
from qrbench.records import UNKNOWN, SessionResult
from qrbench.report.console.tables import run_report
from tests.helpers import session_record


def _printed(summary: RunSummary) -> str:
    console = Console(width=200, record=True)
    console.print(run_report("a run", summary))
    return console.export_text()


def _sessions(auth: str, web_cache: str) -> list[SessionResult]:
    records = [session_record(number, 1000.0 + number) for number in (1, 2)]
    return [
        SessionResult.from_dict({**record, "auth": auth, "web_cache": web_cache})
        for record in records
    ]


def test_what_the_otlp_endpoint_dropped_is_said_and_kept_in_the_summary() -> None:
    refused = {"span of an unknown trace": 3, "malformed body": 1}
    summary = summarize_run(_sessions(UNKNOWN, UNKNOWN), 10_000.0, otlp_refused=refused)
    assert summary.to_dict()["otlp_refused"] == refused
    assert "the OTLP endpoint dropped 4: span of an unknown trace 3, malformed body 1" in (
        _printed(summary)
    )


def test_a_summary_without_otlp_writes_no_key_for_it() -> None:
    summary = summarize_run(_sessions("localauth", "hit"), 10_000.0)
    assert "otlp_refused" not in summary.to_dict()
    assert "OTLP" not in _printed(summary)


def test_auth_and_cache_are_left_out_when_a_gateway_could_see_neither() -> None:
    assert "auth:" not in _printed(summarize_run(_sessions(UNKNOWN, UNKNOWN), 10_000.0))
    assert "auth: localauth 2; web-version cache: hit 2" in _printed(
        summarize_run(_sessions("localauth", "hit"), 10_000.0)
    )
