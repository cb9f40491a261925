"""`qrbench report` and `--html` as a user runs them: files in, one HTML file out, one line
and exit 2 for anything that is not qrbench's."""

import json
from html.parser import HTMLParser
from pathlib import Path

from qrbench.report.export import json as json_export
from tests.helpers import qrbench, results_document, synthetic_explanation


def results_file(directory: Path, name: str, times: list[float | None]) -> Path:
    path = directory / f"{name}.json"
    document = results_document("optimized", times)
    document["status"] = "complete"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def only_local(html: str) -> None:
    """Nothing in the page may run or load anything: no script or embedding element, no
    URL but in-page anchors and SVG's namespace, and a policy that forbids loads anyway."""
    parser = _Tags()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    for tag, attributes in parser.tags:
        assert "src" not in attributes, tag
        assert all(not name.startswith("on") for name in attributes), tag
        assert (attributes.get("href") or "#").startswith("#"), tag
        assert attributes.get("xmlns") in (None, "http://www.w3.org/2000/svg")
    assert "default-src 'none'" in html


def test_report_writes_one_self_contained_file(tmp_path: Path) -> None:
    path = results_file(tmp_path, "run", [2000.0, 2100.0, None])

    done = qrbench("report", str(path), "-o", "out/report.html", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "report written to out/report.html"
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    only_local(html)
    assert html.count('class="waterfall-row') == 3
    assert "#3 failed in qr_wait" in html


def test_report_to_stdout_writes_only_the_html(tmp_path: Path) -> None:
    path = results_file(tmp_path, "run", [2000.0])

    done = qrbench("report", str(path), "-o", "-", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<!doctype html>") and done.stdout.endswith("</html>\n")
    assert not (tmp_path / "report.html").exists()


def test_an_explain_export_and_results_files_share_one_report(tmp_path: Path) -> None:
    export = tmp_path / "explain.json"
    export.write_text(json_export.render_explanation(synthetic_explanation(5)), encoding="utf-8")
    path = results_file(tmp_path, "run", [2000.0])

    done = qrbench("report", str(export), str(path), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart attribution"') == 2
    assert 'class="chart waterfall"' in html


def test_a_missing_or_foreign_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good = results_file(tmp_path, "good", [2000.0])
    foreign = tmp_path / "package.json"
    foreign.write_text('{"name": "x"}', encoding="utf-8")

    for bad, says in (
        (tmp_path / "missing.json", "no such results file"),
        (foreign, "not a qrbench results file (no schema_version)"),
        (tmp_path, "cannot read"),
    ):
        done = qrbench("report", str(good), str(bad), cwd=tmp_path)

        assert done.returncode == 2, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"qrbench: error: {bad}: {says}"), line
        assert not (tmp_path / "report.html").exists()


def test_an_unwritable_output_is_refused_before_reading(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()

    done = qrbench("report", str(tmp_path / "missing.json"), "-o", "taken", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.splitlines() == ["qrbench: error: --output taken: is a directory"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e'


def test_text_from_a_hostile_file_is_escaped_in_the_html(tmp_path: Path) -> None:
    document = results_document("optimized", [2000.0, None])
    document["profile"]["name"] = HOSTILE
    document["scenario"]["name"] = HOSTILE
    document["environment"]["chromium"] = HOSTILE
    document["sessions"][1]["error"].update(type=HOSTILE, message=HOSTILE)
    document["sessions"][0]["stages"][0]["name"] = HOSTILE
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    done = qrbench("report", str(path), "-o", "-", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    only_local(done.stdout)
    assert "\u202e" not in done.stdout
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x" in done.stdout


def test_compare_and_gate_write_html_from_results_files(tmp_path: Path) -> None:
    old = results_file(tmp_path, "old", [3000.0, 3100.0, 3050.0])
    new = results_file(tmp_path, "new", [2000.0, 2100.0, 2050.0])

    compared = qrbench("compare", str(old), str(new), "--html", "compare.html", cwd=tmp_path)
    gated = qrbench(
        "gate", "--results", str(new), "--baseline", str(old), "--target", "1s",
        "--html", "gate.html", cwd=tmp_path,
    )  # fmt: skip

    assert compared.returncode == 0, compared.stderr
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert html.count('class="ecdf-run"') == 2
    assert "optimized#2" in html
    assert html.count('class="waterfall-row') == 6  # a row per session of each run
    assert gated.returncode == 1
    gate = (tmp_path / "gate.html").read_text(encoding="utf-8")
    assert '<span class="fail">FAIL</span>' in gate
    assert "<td>time-to-QR p95</td>" in gate
    # The baseline and the judged run, side by side.
    assert gate.count('class="ecdf-run"') == 2 and "baseline" in gate


def test_two_exports_on_stdout_are_refused(tmp_path: Path) -> None:
    old = results_file(tmp_path, "old", [3000.0])
    new = results_file(tmp_path, "new", [2000.0])

    done = qrbench("compare", str(old), str(new), "--json", "-", "--html", "-", cwd=tmp_path)

    assert done.returncode == 2
    assert "only one of --json and --html can write to stdout" in done.stderr
