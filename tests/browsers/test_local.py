from pathlib import Path

import pytest

from qrbench.browsers.local import HARNESS_ARGS, check_executable, launch_args
from qrbench.config.models import Browser
from qrbench.errors import EnvironmentProblem


def test_missing_chromium_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="apt-get install chromium"):
        check_executable(str(tmp_path / "chromium"))


def test_a_file_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "chromium"
    binary.write_text("")
    binary.chmod(0o644)
    with pytest.raises(EnvironmentProblem):
        check_executable(str(binary))


def test_harness_args_come_first_and_duplicates_are_dropped() -> None:
    config = Browser(args=["--no-first-run", "--single-process", "--single-process"])
    args = launch_args(config, ["--host-resolver-rules=MAP a 127.0.0.1:1"])
    assert args[: len(HARNESS_ARGS)] == list(HARNESS_ARGS)
    assert args.count("--no-first-run") == 1
    assert args.count("--single-process") == 1
    assert "--host-resolver-rules=MAP a 127.0.0.1:1" in args
