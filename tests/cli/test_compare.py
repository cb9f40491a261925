"""`qrbench compare` as a user runs it: real processes on results files with the real schema."""

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import draw, qrbench, results_document


def _save(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def old_and_new(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(41)
    old = results_document("old", draw(rng, 1100, 10), warmup_ms=1500.0)
    new = results_document("new", [*draw(rng, 9800, 9), None], warmup_ms=60000.0)
    return _save(tmp_path, "old", old), _save(tmp_path, "new", new)


def _measured_times(path: Path) -> list[float]:
    sessions = json.loads(path.read_text())["sessions"]
    return [s["time_to_qr_ms"] for s in sessions if not s["warmup"] and s["ok"]]


def test_ratio_in_the_json_is_the_ratio_of_medians_of_the_raw_samples(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    done = qrbench("compare", str(old), str(new), "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    comparison = json.loads(done.stdout)["comparison"]
    found = comparison["time_to_qr"]["differences"]["new"]
    expected = np.median(_measured_times(new)) / np.median(_measured_times(old))
    assert found["ratio"]["value"] == pytest.approx(expected, rel=1e-12)
    assert found["significance"] == "slower"
    # The raw p and the Holm-adjusted one it was judged on, across every metric compared.
    assert found["test"]["p_value"] < found["adjusted_p_value"] < 0.05
    assert comparison["families"]["new"] == [
        "time-to-QR",
        *(stage["name"] for stage in comparison["stages"]),
    ]
    # With the JSON on stdout, the table and the headline go to stderr.
    assert "time-to-QR" in done.stderr and "browser_launch" in done.stderr
    assert f"{expected:.2f}x slower" in done.stderr
    assert comparison["headlines"]["new"].startswith("new: time-to-QR 9.")
    assert comparison["failures"]["new"][0]["type"] == "QrTimeout"


def test_table_shows_every_stage_and_the_headline(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    done = qrbench("compare", str(old), str(new), cwd=tmp_path, env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    for name in ("auth_restore", "browser_launch", "page_load", "qr_wait", "qr_verify"):
        assert name in done.stdout
    assert "success rate" in done.stdout and "9/10" in done.stdout
    assert "new: time-to-QR" in done.stdout and "p < 0.001" in done.stdout
    assert "QrTimeout" in done.stdout


REAL_RESULTS = Path(__file__).parents[2] / "results" / "baselines" / "optimized-lan.json"


def test_three_real_files_fit_80_columns_one_line_a_row(tmp_path: Path) -> None:
    """A results file measured by a real run (the committed baseline), three times over."""
    files = [str(REAL_RESULTS)] * 3
    done = qrbench("compare", *files, cwd=tmp_path, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    rows = [line for line in lines if "│" in line]
    stages = [s["name"] for s in json.loads(REAL_RESULTS.read_text())["sessions"][0]["stages"]]
    for name in [*stages, "time-to-QR", "success rate"]:
        assert sum(f" {name} " in row for row in rows) == 1, (name, done.stdout)
    assert len(rows) == len(stages) + 2
    # 5 runs a side: a family of every metric cannot reach significance, and says so.
    shown = " ".join(done.stdout.split())
    assert "optimized#2, optimized#3: at 5 and 5 runs no p falls below 0.0079" in shown
    assert "slower" not in "".join(rows) and "faster" not in "".join(rows)


def test_a_file_against_itself_is_not_significant(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    done = qrbench("compare", str(old), str(old), "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    comparison = json.loads(done.stdout)["comparison"]
    assert comparison["labels"] == ["old", "old#2"]
    assert comparison["time_to_qr"]["differences"]["old#2"]["significance"] == "not significant"
    assert "not significant" in comparison["headlines"]["old#2"]


def test_two_runs_from_one_distribution_are_not_significant(tmp_path: Path) -> None:
    rng = np.random.default_rng(42)
    first = _save(tmp_path, "a", results_document("optimized", draw(rng, 1400, 10)))
    second = _save(tmp_path, "b", results_document("optimized", draw(rng, 1400, 10)))
    done = qrbench("compare", str(first), str(second), "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["comparison"]["time_to_qr"]["differences"]["optimized#2"]
    assert found["significance"] == "not significant"


def test_reference_by_file_and_every_export(old_and_new: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = old_and_new
    done = qrbench(
        "compare",
        str(old),
        str(new),
        "--reference",
        str(new),
        "--markdown",
        "summary.md",
        "--csv",
        "summary.csv",
        "--json",
        "summary.json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    comparison = json.loads((tmp_path / "summary.json").read_text())["comparison"]
    assert comparison["reference"] == "new"
    assert comparison["time_to_qr"]["differences"]["old"]["significance"] == "faster"
    markdown = (tmp_path / "summary.md").read_text()
    assert comparison["headlines"]["old"] in markdown
    assert "| metric | kind |" in markdown
    rows = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert {(row["metric"], row["profile"]) for row in rows} >= {
        ("time-to-QR", "old"),
        ("time-to-QR", "new"),
        ("success rate", "new"),
    }


def test_a_missing_file_is_one_line_and_exit_2(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    done = qrbench("compare", str(old), "nowhere.json", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "qrbench: error: nowhere.json: no such results file\n"


def test_a_nan_time_to_qr_is_one_line_naming_the_session_and_exit_2(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    document = json.loads(new.read_text())
    document["sessions"][2]["time_to_qr_ms"] = float("nan")
    bad = _save(tmp_path, "bad", document)
    done = qrbench("compare", str(old), str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"qrbench: error: {bad}: session 3: time_to_qr_ms: expected a finite number >= 0 "
        "or null, got NaN"
    ]
    assert done.stdout == ""


def test_an_unknown_reference_is_exit_2(old_and_new: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = old_and_new
    done = qrbench("compare", str(old), str(new), "--reference", "typical", cwd=tmp_path)
    assert done.returncode == 2
    assert "--reference typical: neither a label (old, new)" in done.stderr


def test_an_unknown_reference_among_profiles_is_refused_before_any_session_runs(
    tmp_path: Path,
) -> None:
    # A Chromium that does not exist: had a session started, the run would fail with exit 3.
    done = qrbench(
        "compare",
        "old",
        "new",
        "--reference",
        "typo",
        cwd=tmp_path,
        env={"QRBENCH_CHROMIUM": str(tmp_path / "no-chromium")},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "qrbench: error: --reference typo: not one of the profiles compared (old, new)"
    ]
    assert not (tmp_path / "results").exists()


def test_fewer_than_two_files_is_a_usage_error(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    done = qrbench("compare", str(old), cwd=tmp_path)
    assert done.returncode == 2
    assert "at least two profiles or results files" in done.stderr


def test_help_teaches_with_an_example(tmp_path: Path) -> None:
    done = qrbench("compare", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "qrbench compare old new optimized" in done.stdout
    assert "qrbench compare results/a.json results/b.json" in done.stdout
    assert "not significant" in done.stdout


def test_mixing_profiles_and_files_is_refused(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    done = qrbench("compare", "optimized", str(old), cwd=tmp_path)
    assert done.returncode == 2
    assert "not a mix" in done.stderr


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_profiles_run_interleaved_into_their_own_results_files(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(
        "extends: lan\nreplica:\n  index_kb: 100\n  bundle_kb: 256\n", encoding="utf-8"
    )
    done = qrbench(
        "compare", "old", "optimized", "--scenario", "small.yaml", "--runs", "2",
        "--warmup", "1", "--json", "-",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    comparison = json.loads(done.stdout)["comparison"]
    files = {path.name.split("-")[-2]: path for path in (tmp_path / "results").glob("*.json")}
    assert set(files) == {"old", "optimized"}
    documents = {name: json.loads(path.read_text()) for name, path in files.items()}
    for document in documents.values():
        assert [s["warmup"] for s in document["sessions"]] == [True, False, False]
    # A B A B: each optimized session started after the old session of the same number.
    for old_session, new_session in zip(
        documents["old"]["sessions"], documents["optimized"]["sessions"], strict=True
    ):
        assert old_session["number"] == new_session["number"]
    found = comparison["time_to_qr"]["differences"]["optimized"]
    expected = np.median(_measured_times(files["optimized"])) / np.median(
        _measured_times(files["old"])
    )
    assert found["ratio"]["value"] == pytest.approx(expected, rel=1e-12)
    assert found["significance"] == "too few runs"
    assert "old session 2" in done.stderr and "optimized session 2" in done.stderr
