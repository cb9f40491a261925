"""`qrbench gate` and `qrbench baseline save` as CI runs them: real processes, exit codes, files."""

import json
import subprocess
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qrbench.analysis.summary import summarize_run
from qrbench.records import SessionResult
from tests.helpers import SMALL_WORLD, draw, qrbench, results_document, write_yaml
from tests.report.export.test_auto_stop import FAILED_TARGET, REGRESSED, TARGET_LINE

SMALL_RUN = ("--profile", "optimized", "--scenario", "small", "--runs", "2", "--warmup", "0")


def gate(
    *args: str, cwd: Path, step_summary: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # Never the real $GITHUB_STEP_SUMMARY of a CI job running these tests.
    summary = "" if step_summary is None else str(step_summary)
    return qrbench("gate", *args, cwd=cwd, env={"GITHUB_STEP_SUMMARY": summary})


def save(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def junit_cases(junit_file: Path) -> dict[str, bool]:
    """Testcase name -> failed."""
    suite = ElementTree.parse(junit_file).getroot()
    return {
        case.get("name", ""): case.find("failure") is not None for case in suite.findall("testcase")
    }


@pytest.fixture
def old_and_new(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(51)
    old = results_document("old", draw(rng, 1100, 10), warmup_ms=1500.0)
    new = results_document("new", draw(rng, 3000, 10), warmup_ms=4000.0)
    return save(tmp_path, "old", old), save(tmp_path, "new", new)


def test_baseline_saved_from_old_fails_new_on_the_regression_check(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    saved = gate("--results", str(old), "--save-baseline", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    baseline = tmp_path / "results" / "baselines" / "old-lan.json"
    assert json.loads(baseline.read_text()) == json.loads(old.read_text())
    assert f"baseline saved to {Path('results/baselines/old-lan.json')}" in saved.stdout

    judged = gate(
        "--results", str(new), "--baseline", str(baseline), "--junit", "gate.xml", cwd=tmp_path
    )
    assert judged.returncode == 1, judged.stderr
    cases = junit_cases(tmp_path / "gate.xml")
    # Two threshold checks, time-to-QR and five stages against the baseline.
    assert len(cases) == 8
    assert cases["regression time-to-QR"] is True
    assert cases["time-to-QR p95"] is False and cases["success rate"] is False
    assert "FAIL" in judged.stdout and "regression time-to-QR" in judged.stdout


def test_a_failed_gate_does_not_replace_the_baseline(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    _, new = old_and_new
    done = gate("--results", str(new), "--target", "1s", "--save-baseline", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "baseline not saved: the gate failed" in done.stdout
    assert not (tmp_path / "results" / "baselines").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--target", "-1"), "qrbench: error: --target: must be greater than 0 (got -1)"),
        (
            ("--min-success", "150%"),
            "qrbench: error: --min-success: must be between 0% and 100% (got 150%)",
        ),
        (
            ("--min-success", "0.98"),
            "qrbench: error: --min-success: 0.98 is ambiguous: write 98% for 98 percent, "
            "or 0.98% if that is meant",
        ),
        (
            ("--baseline", "missing.json"),
            "qrbench: error: missing.json: no such baseline file (save one with "
            "`qrbench baseline save --profile P --scenario S`)",
        ),
        (
            ("--runs", "3"),
            "qrbench: error: --runs: only for a gate that runs sessions, not with --results",
        ),
        # Typed, though it is the default: still a run shape that --results cannot have.
        (
            ("-w", "1"),
            "qrbench: error: --warmup: only for a gate that runs sessions, not with --results",
        ),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    option: tuple[str, str], message: str, old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    done = gate("--results", str(old), *option, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [message]
    assert done.stdout == ""


def test_a_nan_time_to_qr_is_one_line_naming_the_session_and_exit_2(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = old_and_new
    document = json.loads(old.read_text())
    document["sessions"][1]["time_to_qr_ms"] = float("nan")
    bad = save(tmp_path, "bad", document)
    done = gate("--results", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"qrbench: error: {bad}: session 2: time_to_qr_ms: expected a finite number >= 0 "
        "or null, got NaN"
    ]
    assert done.stdout == ""


def test_markdown_goes_to_stdout_and_is_appended_to_the_step_summary(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n", encoding="utf-8")
    done = gate(
        "--results",
        str(new),
        "--baseline",
        str(old),
        "--markdown",
        "-",
        cwd=tmp_path,
        step_summary=step_summary,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("### qrbench gate: new on lan\n")
    assert "| regression time-to-QR | median <= +10% |" in done.stdout
    assert "❌ FAIL" in done.stdout
    # The Rich table moves to stderr so stdout stays Markdown.
    assert "Gate: new on lan" in done.stderr
    assert step_summary.read_text(encoding="utf-8") == "earlier step\n" + done.stdout


def test_every_session_failed_is_an_environment_failure(tmp_path: Path) -> None:
    dead = save(tmp_path, "dead", results_document("dead", [None, None, None]))
    done = gate("--results", str(dead), "--junit", "gate.xml", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"qrbench: error: every session failed; see the failures above and {dead}"
    ]
    # CI still gets the report that says what failed.
    assert junit_cases(tmp_path / "gate.xml") == {"time-to-QR p95": True, "success rate": True}


def test_a_gate_section_in_the_profile_sets_thresholds_and_the_command_line_wins(
    tmp_path: Path,
) -> None:
    document = results_document("strict", [1000.0, 1100.0, 1200.0])
    document["profile"]["gate"] = {"target_s": 0.5}
    strict = save(tmp_path, "strict", document)
    from_profile = gate("--results", str(strict), "--junit", "gate.xml", cwd=tmp_path)
    assert from_profile.returncode == 1
    assert junit_cases(tmp_path / "gate.xml")["time-to-QR p95"] is True
    assert gate("--results", str(strict), "--target", "10s", cwd=tmp_path).returncode == 0


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_real_gate_passes_at_10s_and_fails_at_50ms(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    passed = gate(*SMALL_RUN, "--target", "10s", "--junit", "pass.xml", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert junit_cases(tmp_path / "pass.xml") == {"time-to-QR p95": False, "success rate": False}
    failed = gate(*SMALL_RUN, "--target", "0.05s", "--junit", "fail.xml", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert junit_cases(tmp_path / "fail.xml") == {"time-to-QR p95": True, "success rate": False}
    failure = ElementTree.parse(tmp_path / "fail.xml").getroot().find("testcase/failure")
    assert failure is not None
    assert "threshold <= 50 ms" in failure.get("message", "")
    assert len(list((tmp_path / "results").glob("*-optimized-small.json"))) == 2


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_real_aa_gate_against_its_own_fresh_baseline_passes(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    saved = qrbench("baseline", "save", *SMALL_RUN, cwd=tmp_path)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    baseline = tmp_path / "results" / "baselines" / "optimized-small.json"
    assert len(json.loads(baseline.read_text())["sessions"]) == 2
    done = gate(*SMALL_RUN, "--baseline", str(baseline), "--junit", "gate.xml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = junit_cases(tmp_path / "gate.xml")
    assert "regression time-to-QR" in cases
    assert not any(cases.values())
    # Two runs a side can show no significant difference; the gate says so instead.
    assert "too few runs" in done.stdout


def test_an_unwritable_step_summary_is_one_line_and_exit_2(
    old_and_new: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = old_and_new
    summary = tmp_path / "no-such-dir" / "summary.md"
    done = gate("--results", str(new), "--baseline", str(old), cwd=tmp_path, step_summary=summary)
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"qrbench: error: {summary}: cannot append (No such file or directory)\n"
    )
    assert "Traceback" not in done.stderr


def test_p95_is_a_percentile_and_two_sessions_pass_with_a_warning_per_check(
    tmp_path: Path,
) -> None:
    two = save(tmp_path, "two", results_document("optimized", [1000.0, 1100.0]))
    done = gate("--results", str(two), "--percentile", "p95", "--min-success", "98%", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = " ".join(done.stdout.split())  # as read, whatever the terminal's width
    assert (
        "gate passed: 2/2 checks, but time-to-QR p95 and success rate on too few sessions"
    ) in shown
    assert (
        "warning: optimized: time-to-QR p95 rests on only 2 session(s); a 95% level speaks "
        "of 1 session in 20, so it needs 20 or more"
    ) in shown
    assert (
        "warning: optimized: success rate rests on only 2 session(s); a 98% level speaks of "
        "1 session in 50, so it needs 50 or more"
    ) in shown
    assert "hint: measure with --runs 50 or more before trusting its pass" in shown


def test_at_80_columns_passing_stage_checks_fold_unless_verbose(tmp_path: Path) -> None:
    rng = np.random.default_rng(52)
    old = save(tmp_path, "old", results_document("old", draw(rng, 1100, 10)))
    new = save(tmp_path, "new", results_document("new", draw(rng, 1100, 10)))
    for verbose, rows_expected in ((False, 4), (True, 2 + 1 + 5)):
        done = qrbench(
            "gate",
            "--results",
            str(new),
            "--baseline",
            str(old),
            *(["--verbose"] if verbose else []),
            cwd=tmp_path,
            env={"COLUMNS": "80", "GITHUB_STEP_SUMMARY": ""},
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert max(map(len, lines)) <= 80
        rows = [line for line in lines if "│" in line]
        assert len(rows) == rows_expected, done.stdout
        folded = [row for row in rows if "regression 5 stages" in row]
        assert len(folded) == (0 if verbose else 1)
        assert ("regression page_load:" in done.stdout) is verbose


def _stopped_run(tmp_path: Path, stop: dict[str, Any]) -> Path:
    """A finished `--runs auto` run whose summary records how it stopped."""
    document = results_document("optimized", [1501.0, 1502.0, 1503.0])
    sessions = [SessionResult.from_dict(record) for record in document["sessions"]]
    document["summary"] = {**summarize_run(sessions, 50.0).to_dict(), "auto_stop": stop}
    return save(tmp_path, "auto", document)


def test_gate_results_of_a_runs_auto_run_says_how_that_run_stopped(tmp_path: Path) -> None:
    recorded = json.loads(json.dumps(asdict(FAILED_TARGET)))
    results_file = _stopped_run(tmp_path, recorded)
    done = gate("--results", str(results_file), "--junit", "gate.xml", cwd=tmp_path)
    assert f"--runs auto: {TARGET_LINE}" in " ".join(done.stdout.split())
    suite = ElementTree.parse(tmp_path / "gate.xml").getroot()
    properties = {item.get("name"): item.get("value") for item in suite.iter("property")}
    assert properties["runs_auto"] == TARGET_LINE


def test_gate_results_reads_back_a_recorded_regression(tmp_path: Path) -> None:
    recorded = json.loads(json.dumps(asdict(REGRESSED)))
    done = gate("--results", str(_stopped_run(tmp_path, recorded)), cwd=tmp_path)
    assert "against the baseline's 1,200 ms + 10% ([1,254, 1,386]): regressed" in " ".join(
        done.stdout.split()
    )


def test_gate_results_refuses_a_malformed_stop_record_naming_it(tmp_path: Path) -> None:
    recorded = json.loads(json.dumps(asdict(FAILED_TARGET)))
    recorded["look"]["settled"] = "maybe"
    done = gate("--results", str(_stopped_run(tmp_path, recorded)), cwd=tmp_path)
    assert done.returncode == 2
    assert "summary.auto_stop" in done.stderr and "$.look.settled" in done.stderr
