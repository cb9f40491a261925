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


def test_feature_lists_of_the_profile_and_the_replica_become_one_switch() -> None:
    # Chromium keeps only the last --disable-features: two would drop one list.
    config = Browser(args=["--disable-features=VizDisplayCompositor", "--enable-features=A,B"])
    args = launch_args(config, ["--disable-features=LocalNetworkAccessChecks,VizDisplayCompositor"])
    disabled = [arg for arg in args if arg.startswith("--disable-features=")]
    assert disabled == ["--disable-features=VizDisplayCompositor,LocalNetworkAccessChecks"]
    assert [arg for arg in args if arg.startswith("--enable-features=")] == [
        "--enable-features=A,B"
    ]
