"""What a command imports: `qrbench --help` none of the commands, and a command only what
it uses (issue 22: the root help took 1.5 s importing statistics, browser and HTTP)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import qrbench, results_document

_PROBE = """
import sys
sys.argv = ["qrbench", *sys.argv[1:]]
from qrbench.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
sys.stderr.write("\\nEXIT " + str(code) + " MODULES " + " ".join(sys.modules))
"""
HEAVY = {"numpy", "scipy", "aiohttp", "playwright", "pydantic", "psutil", "redis", "yaml"}


def _modules_loaded_by(*argv: str, cwd: Path, exit_code: int = 0) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    said = done.stderr.rsplit("\nEXIT ", 1)[1]
    code, modules = said.split(" MODULES ")
    assert int(code) == exit_code, done.stderr
    return set(modules.split())


def _top_level(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


@pytest.mark.parametrize(("argv", "exit_code"), [(["--help"], 0), ([], 2), (["--version"], 0)])
def test_the_root_help_imports_no_command(argv: list[str], exit_code: int, tmp_path: Path) -> None:
    loaded = _modules_loaded_by(*argv, cwd=tmp_path, exit_code=exit_code)
    assert _top_level(loaded) & HEAVY == set()
    assert {m for m in loaded if m.startswith("qrbench.cli.")} == {"qrbench.cli.app"}


def test_compare_of_files_imports_no_browser_server_or_store(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps(results_document(name, [900.0] * 5)))
    loaded = _modules_loaded_by("compare", "a.json", "b.json", cwd=tmp_path)
    assert "qrbench.cli.compare" in loaded
    assert _top_level(loaded) & {"playwright", "aiohttp", "redis"} == set()
    assert not {m for m in loaded if m.startswith(("qrbench.cli.run", "qrbench.cli.capacity"))}


def test_a_command_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    done = qrbench("rnu", "--profile", "optimized", cwd=tmp_path)
    assert done.returncode == 2
    assert "No such command 'rnu'" in done.stderr


def test_a_groups_command_loads_its_group(tmp_path: Path) -> None:
    listed = qrbench("profiles", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "optimized" in listed.stdout
