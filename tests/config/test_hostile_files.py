"""Profiles and scenarios arrive in pull requests: whatever their shape, each is one located
error, exit 2, in bounded time and memory, and no error quotes a file that is not YAML."""

import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from qrbench.config.loader import ProfileError, load_profile, load_scenario
from qrbench.config.yaml_source import MAX_DEPTH

# Without the bounds each of these ran until killed (or ended in a RecursionError): the
# time bound is wide for a loaded machine, the memory bound is the issue's.
WALL_CLOCK_BOUND_S = 30.0
MEMORY_BOUND_MB = 200.0


def billion_laughs() -> str:
    """Nine levels of nine references: ~400 million values once expanded, 10 lines."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghi"
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    lines.append("description: *i")
    return "\n".join(lines) + "\n"


def merge_key_laughs() -> str:
    """The same growth through `<<:` merge keys, which are expanded before any value."""
    lines = ["m0: &m0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8, k8: 9}"]
    for level in range(1, 9):
        entries = [f"<<: *m{level - 1}"] + [f"x{j}: *m{level - 1}" for j in range(1, 9)]
        lines.append(f"m{level}: &m{level} {{" + ", ".join(entries) + "}")
    return "\n".join(lines) + "\n"


def nested_brackets(depth: int = 5000) -> str:
    return "browser: " + "[" * depth + "]" * depth + "\n"


def alias_chain(length: int = 3000) -> str:
    """Each line one level deeper than the last, by reference: flat text, deep values."""
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, length)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Hostile:
    text: str
    line: int
    message: str


HOSTILE = {
    "billion-laughs": Hostile(billion_laughs(), 5, "values once YAML aliases are expanded"),
    "merge-keys": Hostile(merge_key_laughs(), 4, "values once YAML aliases are expanded"),
    "nested-brackets": Hostile(nested_brackets(), 1, f"nested more than {MAX_DEPTH} levels"),
    "alias-chain": Hostile(alias_chain(), 1, f"nested more than {MAX_DEPTH} levels deep once"),
}


@dataclass(frozen=True)
class Finished:
    returncode: int
    stderr: str
    peak_rss_mb: float


def _peak_rss_mb(pid: int) -> float | None:
    """The process's high-water RSS (VmHWM): its own since exec, unlike wait4's figure,
    which also counts the test process's pages the child had before it exec'd."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def run_bounded(*args: str, cwd: Path) -> Finished:
    """`qrbench *args` with its wall clock and its peak RSS, read while it runs."""
    stderr_path = cwd / "stderr.txt"
    started = time.monotonic()
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "qrbench", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "COLUMNS": "120"},
        )
    peak_rss_mb = 0.0
    while True:
        peak_rss_mb = max(peak_rss_mb, _peak_rss_mb(process.pid) or 0.0)
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > WALL_CLOCK_BOUND_S:
            process.kill()
            process.wait()
            pytest.fail(f"qrbench {' '.join(args)} ran past {WALL_CLOCK_BOUND_S} s")
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Finished(
        returncode=process.returncode,
        stderr=stderr_path.read_text(encoding="utf-8"),
        peak_rss_mb=peak_rss_mb,
    )


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize("kind", ["profile", "scenario"])
def test_a_hostile_file_is_one_located_line_exit_2_in_bounded_time_and_memory(
    tmp_path: Path, case: str, kind: str
) -> None:
    hostile = HOSTILE[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(hostile.text, encoding="utf-8")

    done = run_bounded("profiles", "validate", "--kind", kind, str(path), cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert f"{path.name}:{hostile.line}:" in line, line
    assert hostile.message in line
    assert done.peak_rss_mb < MEMORY_BOUND_MB, done.peak_rss_mb


@pytest.mark.parametrize("case", ["billion-laughs", "nested-brackets"])
def test_run_refuses_a_hostile_profile_before_any_session(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(HOSTILE[case].text, encoding="utf-8")

    done = run_bounded("run", "-p", str(path), "-n", "1", cwd=tmp_path)

    assert done.returncode == 2
    assert HOSTILE[case].message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()  # refused before a results file was opened


SECRET = "root:$6$hash-that-must-not-be-printed:20228:0:99999:7:::"


@pytest.mark.parametrize("extends", ["secret", "secret.txt", "secret.conf"])
def test_extends_refuses_a_file_that_is_not_yaml_without_quoting_it(
    tmp_path: Path, extends: str
) -> None:
    (tmp_path / extends).write_text(SECRET + "\n" + SECRET + "\n", encoding="utf-8")
    profile = tmp_path / "mine.yaml"
    profile.write_text(f"description: mine\nextends: ./{extends}\n", encoding="utf-8")

    done = run_bounded("profiles", "validate", str(profile), cwd=tmp_path)

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "mine.yaml:2: extends: must name a .yaml or .yml file" in line
    assert "hash-that-must-not-be-printed" not in done.stderr


def test_a_profile_path_that_is_not_yaml_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text(SECRET + "\n", encoding="utf-8")

    with pytest.raises(ProfileError, match=r"must end in \.yaml or \.yml") as raised:
        load_profile(str(secret), cwd=tmp_path)
    with pytest.raises(ProfileError, match=r"must end in \.yaml or \.yml"):
        load_scenario("./shadow", cwd=tmp_path)

    assert "hash-that-must-not-be-printed" not in str(raised.value)


def test_anchors_and_merge_keys_within_bounds_still_load(tmp_path: Path) -> None:
    profile = tmp_path / "anchored.yaml"
    profile.write_text(
        "extends: optimized\n"
        "browser: &browser\n"
        "  timeout_ms: 20000\n"
        "web_version_cache:\n"
        "  type: none\n"
        "description: &text anchored\n"
        "qr:\n"
        "  <<: {}\n",
        encoding="utf-8",
    )

    loaded = load_profile(str(profile), cwd=tmp_path)

    assert loaded.browser.timeout_ms == 20000
    assert loaded.description == "anchored"
