"""What `qrbench report` reads: results files, and explain's JSON export read back whole."""

import json
from pathlib import Path
from typing import Any

import pytest

from qrbench.report.export import json as json_export
from qrbench.report.html.inputs import read_report
from qrbench.report.html.model import ExplanationPart, RunsPart
from qrbench.results import ResultsError
from tests.helpers import results_document, synthetic_explanation


def write(path: Path, document: object) -> Path:
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def export_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json_export.render_explanation(synthetic_explanation(3)))
    return document


def test_an_explain_export_reads_back_as_the_explanation_it_was(tmp_path: Path) -> None:
    explanation = synthetic_explanation(3)
    path = write(tmp_path / "explain.json", json_export.render_explanation(explanation))

    (part,) = read_report([path])

    assert isinstance(part, ExplanationPart)
    # Every figure the report shows comes back as it was; the caveats come back phrased.
    assert part.explanation.total == explanation.total
    assert part.explanation.directions == explanation.directions
    assert part.explanation.sources == explanation.sources
    assert part.explanation.estimates_source == explanation.estimates_source
    assert len(part.caveats) == len(explanation.caveats)


def test_results_files_go_side_by_side_in_one_part_labelled_apart(tmp_path: Path) -> None:
    first = write(tmp_path / "a.json", results_document("optimized", [2000.0, 2100.0]))
    second = write(tmp_path / "b.json", results_document("optimized", [2200.0]))
    export = write(tmp_path / "e.json", export_document())

    explanation, runs = read_report([first, export, second])

    assert isinstance(explanation, ExplanationPart) and isinstance(runs, RunsPart)
    assert [run.label for run in runs.runs] == ["optimized", "optimized#2"]
    assert [len(run.sessions) for run in runs.runs] == [2, 1]


def _spoil(path: list[str | int], value: object) -> dict[str, Any]:
    document = export_document()
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


GROUP = ["explanation", "directions", 0, "groups", 0]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_spoil([*GROUP, "saving", "value_ms"], "fast"), "saving.value_ms: expected a finite"),
        (_spoil([*GROUP, "saving", "significance"], "huge"), "expected one of faster"),
        (_spoil(["explanation", "directions", 0, "direction"], "both"), "forward or backward"),
        (_spoil(["explanation", "slow"], 1), "explanation.slow: expected a string"),
        (_spoil(["schema_version"], 99), "export schema_version 99 is not supported"),
        (
            {"schema_version": 1, "comparison": {}},
            "a `compare --json` summary holds no sessions; report the results files",
        ),
        ({"schema_version": 1, "results_file": "r.json"}, "report its `results_file`"),
        ({"hello": 1}, "not a qrbench results file (no schema_version)"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_file_that_is_neither_is_one_error_naming_it(
    tmp_path: Path, document: object, message: str
) -> None:
    path = write(tmp_path / "bad.json", document)

    with pytest.raises(ResultsError) as raised:
        read_report([path])

    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_a_negative_saving_is_a_cost_not_an_error(tmp_path: Path) -> None:
    document = _spoil([*GROUP, "saving", "value_ms"], -250.0)
    (part,) = read_report([write(tmp_path / "e.json", document)])

    assert isinstance(part, ExplanationPart)
    saving = part.explanation.directions[0].groups[0].saving
    assert saving is not None and saving.value_ms == -250.0
