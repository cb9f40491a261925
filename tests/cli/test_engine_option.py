"""--engine as a user gives it: real processes, exit codes, one line each."""

import json
from pathlib import Path

import pytest

from qrbench.engines.wwebjs import install
from qrbench.errors import EnvironmentProblem
from tests.helpers import SMALL_WORLD, qrbench, write_yaml

REAL = ["--engine", "whatsapp-web.js"]


def test_the_real_engine_without_node_is_exit_3_with_the_install_command(tmp_path: Path) -> None:
    done = qrbench("run", *REAL, cwd=tmp_path, env={"QRBENCH_NODE": str(tmp_path / "no-node")})
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "Node.js" in line and "apt-get install nodejs npm" in line
    assert "--engine model" in line
    assert not (tmp_path / "results").exists()


def test_missing_driver_modules_name_the_npm_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install, "DRIVER_DIR", tmp_path)
    with pytest.raises(EnvironmentProblem, match="npm ci"):
        install.library_version()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", *REAL, "--profile", "persist.yaml"], "web_version_cache.persist"),
        (["run", *REAL, "--scenario", "scan.yaml"], "scan_after_ms"),
        (["run", "--engine", "selenium"], "--engine"),
        (["compare", "a.json", "b.json", *REAL], "not results files"),
        (["compare", "optimized", *REAL], "at least two"),
        (["gate", "--results", "r.json", *REAL], "not with --results"),
        (["explain", "old", "real.yaml"], "--engine"),
    ],
)
def test_what_the_engine_cannot_do_is_exit_2_before_any_session(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    write_yaml(
        tmp_path / "persist.yaml", "extends: optimized\nweb_version_cache:\n  persist: after_load\n"
    )
    write_yaml(tmp_path / "scan.yaml", "extends: lan\nscan_after_ms: 500\n")
    write_yaml(tmp_path / "real.yaml", "extends: optimized\nengine: whatsapp-web.js\n")
    done = qrbench(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.browser
def test_compare_puts_one_profile_on_both_engines_side_by_side(tmp_path: Path) -> None:
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "compare", "optimized", "--engine", "model", *REAL,
        "--runs", "1", "--warmup", "0", "--scenario", "small.yaml", "--json", "c.json",
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "optimized@model" in done.stdout
    assert "optimized@whatsapp-web.js" in done.stdout
    comparison = json.loads((tmp_path / "c.json").read_text())
    assert "optimized@whatsapp-web.js" in json.dumps(comparison)
    engines = {
        json.loads(path.read_text())["engine"]["name"]
        for path in (tmp_path / "results").glob("*.json")
    }
    assert engines == {"model", "whatsapp-web.js"}
