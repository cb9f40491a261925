"""The HTML report opened in real headless Chromium: from real short runs (`run --html`,
`compare --html`) and from an explain export (`qrbench report`). No console error, nothing
fetched, and the number of marks each chart should have. Screenshots go to a temporary
directory, or to $QRBENCH_SCREENSHOTS when set (for people to look at)."""

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from qrbench.report.export import json as json_export
from tests.helpers import SMALL_WORLD, qrbench, results_document, synthetic_explanation, write_yaml

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]

# As qrbench's own launcher starts Chromium (browsers/local.py).
FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Opened:
    page: Page
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()


OpenReport = Callable[[Path], Opened]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("QRBENCH_SCREENSHOTS")
    directory = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def open_report(shots: Path) -> Iterator[OpenReport]:
    """Opens an HTML file in Chromium, recording console errors, page errors, dialogs and
    every request but the file itself; saves a full-page screenshot named after it."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:

            def opened(path: Path) -> Opened:
                page = browser.new_page(viewport={"width": 960, "height": 800})
                found = Opened(page)
                url = path.resolve().as_uri()
                page.on(
                    "console",
                    lambda m: (
                        found.problems.append(m.text) if m.type in ("error", "warning") else None
                    ),
                )
                page.on("pageerror", lambda error: found.problems.append(str(error)))
                page.on("dialog", lambda dialog: found.problems.append(f"dialog: {dialog.message}"))
                page.on("request", lambda r: found.requests.append(r.url) if r.url != url else None)
                page.goto(url, wait_until="load", timeout=15_000)
                page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=True)
                return found

            yield opened
        finally:
            browser.close()


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real short runs, once for the module: `run --html` and `compare --html`."""
    directory = tmp_path_factory.mktemp("measured")
    write_yaml(directory / "small.yaml", SMALL_WORLD)
    common = ("--scenario", "small.yaml", "--runs", "2", "--warmup", "0")
    ran = qrbench("run", *common, "--output", "run.json", "--html", "run.html", cwd=directory)
    assert ran.returncode == 0, ran.stderr
    compared = qrbench(
        "compare", "optimized", "optimized", *common, "--html", "compare.html", cwd=directory
    )
    assert compared.returncode == 0, compared.stderr
    write_yaml(directory / "blocking.yaml", "extends: optimized\nwebhook:\n  mode: blocking\n")
    write_yaml(directory / "background.yaml", "extends: optimized\nwebhook:\n  mode: background\n")
    explained = qrbench(
        "explain", "blocking.yaml", "background.yaml", *common, "--estimates", "seed",
        "--html", "explain-live.html", cwd=directory,
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    saved = qrbench("baseline", "save", *common, "--html", "baseline.html", cwd=directory)
    assert saved.returncode == 0, saved.stderr
    return directory


def assert_clean(opened: Opened) -> None:
    assert opened.problems == []
    assert opened.requests == []
    assert opened.count("script") == 0


def test_a_run_report_shows_every_session_and_stage(
    measured: Path, open_report: OpenReport
) -> None:
    sessions = json.loads((measured / "run.json").read_text())["sessions"]
    opened = open_report(measured / "run.html")

    assert_clean(opened)
    assert opened.count("svg.waterfall .waterfall-row") == 2
    stages = sum(len(session["stages"]) for session in sessions)
    assert opened.count("svg.waterfall .stage-bar") == stages
    assert opened.count("svg.ecdf .ecdf-step") == sum(session["ok"] for session in sessions)
    assert opened.count("svg.ecdf .target-line") == 1
    assert opened.count("svg.ecdf .p95-marker") == 1
    names = {stage["name"] for session in sessions if session["ok"] for stage in session["stages"]}
    assert opened.count("svg.stage-strip") == len(names)
    assert opened.count("svg.stage-strip .strip-dot") == sum(
        len(session["stages"]) for session in sessions if session["ok"]
    )
    # Laid out, not just present: a chart has a size on the screen.
    box = opened.page.locator("svg.waterfall").bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 40
    assert "Chromium" in opened.page.locator("section").first.inner_text()


def test_baseline_save_writes_the_report_of_the_run_it_saved(
    measured: Path, open_report: OpenReport
) -> None:
    opened = open_report(measured / "baseline.html")

    assert_clean(opened)
    assert opened.count("svg.waterfall .waterfall-row") == 2
    assert (measured / "results" / "baselines" / "optimized-small.json").exists()
    assert "-optimized-small.json" in opened.page.locator("section").first.inner_text()


def test_a_compare_report_puts_both_runs_side_by_side(
    measured: Path, open_report: OpenReport
) -> None:
    opened = open_report(measured / "compare.html")

    assert_clean(opened)
    assert opened.count("svg.waterfall") == 2
    assert opened.count("svg.waterfall .waterfall-row") == 4
    assert opened.count("svg.ecdf .ecdf-run") == 2
    assert opened.count("svg.ecdf .p95-marker") == 2
    # Every strip has a row per run: two medians where both ran the stage.
    strips = opened.page.locator("svg.stage-strip")
    for index in range(strips.count()):
        assert strips.nth(index).locator(".strip-median").count() == 2


def test_explain_html_shows_the_attribution_and_every_variant(
    measured: Path, open_report: OpenReport
) -> None:
    opened = open_report(measured / "explain-live.html")

    assert_clean(opened)
    # One group differs (webhook), one direction: its bar, the remainder, the total gap.
    assert opened.count("svg.attribution") == 1
    assert opened.count("svg.attribution .attribution-bar") == 3
    assert opened.count("svg.attribution .estimate-mark") == 1  # the study guessed webhook
    # Both variants, two sessions each.
    assert opened.count("svg.waterfall") == 2
    assert opened.count("svg.waterfall .waterfall-row") == 4
    assert opened.count("svg.ecdf .ecdf-run") == 2


def test_an_explain_report_sets_each_saving_beside_the_estimate(
    tmp_path: Path,
    open_report: OpenReport,
) -> None:
    explanation = synthetic_explanation(9)
    export = tmp_path / "explain.json"
    export.write_text(json_export.render_explanation(explanation), encoding="utf-8")
    done = qrbench("report", str(export), "-o", "explain.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    opened = open_report(tmp_path / "explain.html")

    assert_clean(opened)
    charts = opened.page.locator("svg.attribution")
    assert charts.count() == len(explanation.directions) == 2
    for index, effects in enumerate(explanation.directions):
        chart = charts.nth(index)
        # Each group, then the remainder and the total gap, each with its CI.
        assert chart.locator(".attribution-bar").count() == len(effects.groups) + 2
        assert chart.locator(".attribution-ci").count() == len(effects.groups) + 2
        guessed = [effect for effect in effects.groups if effect.estimate is not None]
        assert chart.locator(".estimate-mark").count() == len(guessed) > 0


def test_a_hostile_results_file_runs_nothing_in_the_browser(
    tmp_path: Path, open_report: OpenReport
) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"><svg onload=alert(3)>'
    document = results_document(hostile, [2000.0, None])
    document["sessions"][1]["error"].update(type=hostile, message=hostile)
    document["sessions"][0]["stages"][0]["name"] = hostile
    (tmp_path / "hostile.json").write_text(json.dumps(document), encoding="utf-8")
    done = qrbench("report", "hostile.json", "-o", "hostile.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    opened = open_report(tmp_path / "hostile.html")

    assert_clean(opened)  # no dialog, no request for "x"
    assert opened.count("img") == 0
    assert hostile in opened.page.locator("body").inner_text()
