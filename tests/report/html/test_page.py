"""The document: a section per part, a policy that forbids loads, and runs with nothing
to draw still reported."""

from pathlib import Path

from qrbench.report.html import page
from qrbench.report.html.model import RunData
from qrbench.report.html.parts import runs_part
from qrbench.results import SavedResults
from tests.helpers import results_document


def run_of(times: list[float | None], warmup_ms: float | None = None) -> RunData:
    document = results_document("optimized", times, warmup_ms=warmup_ms)
    return RunData("optimized", SavedResults.from_dict(document, Path("r.json")), 10_000.0)


def test_each_part_is_a_section_listed_in_the_contents() -> None:
    parts = [runs_part([run_of([2000.0])], "first"), runs_part([run_of([2100.0])], "second")]

    html = page.render("qrbench report", parts)

    assert '<section id="part-1"><h2>first</h2>' in html
    assert '<section id="part-2"><h2>second</h2>' in html
    assert '<a href="#part-1">first</a>' in html and '<a href="#part-2">second</a>' in html
    assert "default-src 'none'" in html


def test_a_run_with_only_warmups_or_only_failures_is_reported_not_drawn() -> None:
    only_warmup = page.render("r", [runs_part([run_of([], warmup_ms=2000.0)])])
    only_failures = page.render("r", [runs_part([run_of([None, None])])])

    assert "No measured session." in only_warmup and "ecdf-step" not in only_warmup
    assert '<td class="n">0/0</td>' in only_warmup
    assert "ecdf-step" not in only_failures
    assert only_failures.count('class="waterfall-row failed"') == 2
    assert '<td class="n">0/2 (0%)</td>' in only_failures


def test_the_environment_names_the_engine_the_run_was_driven_by() -> None:
    real = run_of([900.0])
    real.saved.profile["engine"] = "whatsapp-web.js"

    assert "<td>engine</td><td>whatsapp-web.js</td>" in page.render("r", [runs_part([real])])
    assert "<td>engine</td><td>model</td>" in page.render("r", [runs_part([run_of([950.0])])])
