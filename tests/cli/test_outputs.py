"""Output paths as a CI job running as root meets them: FIFOs and links are written through,
never replaced; modes follow the umask; an unwritable path stops a command before any session.
"""

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SMALL_WORLD, draw, fifo_reader, qrbench, results_document, write_yaml

# A directory nobody may write in, root included (procfs refuses even CAP_DAC_OVERRIDE).
READ_ONLY_DIR = Path("/proc/sys")


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[str, str]:
    rng = np.random.default_rng(7)
    for name, median in (("old", 1100), ("new", 3000)):
        document = results_document(name, draw(rng, median, 10))
        (tmp_path / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    return "old.json", "new.json"


def test_a_fifo_and_a_link_to_one_are_written_through_not_replaced(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    # As `--json /dev/null` or `--markdown /dev/stdout` would be, with private stand-ins.
    os.mkfifo(tmp_path / "json.pipe")
    os.mkfifo(tmp_path / "md.pipe")
    (tmp_path / "md-link").symlink_to(tmp_path / "md.pipe")
    with fifo_reader(tmp_path / "json.pipe") as json_out, fifo_reader(tmp_path / "md.pipe") as md:
        done = qrbench(
            "compare", *two_runs, "--json", "json.pipe", "--markdown", "md-link", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(json_out())["comparison"]["reference"] == "old"
        assert md().decode().startswith("### qrbench compare: old, new")
    assert stat.S_ISFIFO((tmp_path / "json.pipe").lstat().st_mode)
    assert stat.S_ISFIFO((tmp_path / "md.pipe").lstat().st_mode)
    assert (tmp_path / "md-link").is_symlink()


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_a_run_writes_its_summary_through_a_link_to_a_fifo_and_its_results_through_a_link(
    tmp_path: Path,
) -> None:
    # `--json` as a stand-in for /dev/null (a link to a FIFO, as /dev/stdout is to a pipe);
    # `--output` a link to where the results are kept.
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    os.mkfifo(tmp_path / "summary.pipe")
    (tmp_path / "null").symlink_to(tmp_path / "summary.pipe")
    kept = tmp_path / "kept" / "run.json"
    (tmp_path / "latest.json").symlink_to(kept)
    with fifo_reader(tmp_path / "summary.pipe") as summary:
        done = qrbench(
            "run", "--scenario", "small.yaml", "--runs", "1", "--warmup", "0",
            "--json", "null", "--output", "latest.json", cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(summary())["summary"]["measured"] == 1
    assert (tmp_path / "null").is_symlink()
    assert stat.S_ISFIFO((tmp_path / "summary.pipe").lstat().st_mode)
    assert (tmp_path / "latest.json").is_symlink()
    assert len(json.loads(kept.read_text())["sessions"]) == 1


def test_a_link_to_a_file_stays_a_link_and_its_target_gets_the_export(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "reports" / "compare.csv"
    target.parent.mkdir()
    target.write_text("old")
    (tmp_path / "latest.csv").symlink_to(target)
    done = qrbench("compare", *two_runs, "--csv", "latest.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "latest.csv").is_symlink()
    assert target.read_text().startswith("metric,")


def test_exports_follow_the_umask_and_an_existing_file_keeps_its_mode(
    two_runs: tuple[str, str], tmp_path: Path
) -> None:
    (tmp_path / "kept.md").write_text("old")
    (tmp_path / "kept.md").chmod(0o644)
    previous = os.umask(0o027)  # inherited by the qrbench process
    try:
        done = qrbench(
            "compare", *two_runs, "--csv", "new.csv", "--markdown", "kept.md", cwd=tmp_path
        )
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "kept.md").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--output", "a-dir"), "--output a-dir: is a directory"),
        (
            ("run", "--output", "results.pipe"),
            "--output results.pipe: a results file must be a regular file",
        ),
        (
            ("run", "--json", f"{READ_ONLY_DIR}/summary.json"),
            f"--json {READ_ONLY_DIR}/summary.json: directory {READ_ONLY_DIR} is not writable",
        ),
        (
            ("gate", "--output", "a-file/run.json"),
            "--output a-file/run.json: a-file is not a directory",
        ),
        (("gate", "--junit", "a-dir"), "--junit a-dir: is a directory"),
        (
            ("gate", "--save-baseline"),
            "baseline results/baselines/optimized-small.json: results is not a directory",
        ),
        (
            ("baseline", "save"),
            "baseline results/baselines/optimized-small.json: results is not a directory",
        ),
        (("run",), "results file results/"),
        (("compare", "old", "optimized", "--markdown", "a-dir"), "--markdown a-dir: is a dir"),
        (("compare", "old", "optimized", "--csv", "a-file/x"), "--csv a-file/x: a-file is not a"),
        (("explain", "old", "optimized", "--json", "a-dir"), "--json a-dir: is a directory"),
    ],
)
def test_an_unwritable_output_stops_the_command_before_any_session(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "a-file").write_text("")
    os.mkfifo(tmp_path / "results.pipe")
    # A file where the results folder would go: the default results path cannot be made.
    (tmp_path / "results").write_text("")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    small = ("--scenario", "small", "--runs", "1", "--warmup", "0")
    done = qrbench(*args, *small, cwd=tmp_path, env={"TMPDIR": str(scratch)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"qrbench: error: {message}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    # Nothing ran: no progress, no table, no Chromium profile or Redis dir left behind.
    assert done.stdout == ""
    assert list(scratch.iterdir()) == []
