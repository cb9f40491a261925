"""qrbench as a user runs it: a real process, real exit codes, what lands on the screen."""

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import REPLICA_TLS, SMALL_WORLD, qrbench, write_yaml


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_run_prints_every_stage_and_the_verdict(tmp_path: Path) -> None:
    write_yaml(tmp_path / "profiles" / "scenarios" / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "run",
        "--profile",
        "optimized",
        "--scenario",
        "small",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--json",
        "summary.json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    for stage in (
        "auth_restore",
        "browser_launch",
        "web_version",
        "page_load",
        "qr_wait",
        "qr_encode",
        "qr_verify",
        "time-to-QR",
    ):
        assert stage in done.stdout
    assert "PASS" in done.stdout
    assert "2/2 sessions" in done.stdout
    (results_file,) = (tmp_path / "results").glob("*-optimized-small.json")
    document = json.loads(results_file.read_text())
    assert len(document["sessions"]) == 2
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["summary"]["verdict"] == "PASS"
    assert summary["results_file"] == str(Path("results") / results_file.name)


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_json_to_stdout_keeps_stdout_machine_readable(tmp_path: Path) -> None:
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    done = qrbench(
        "run",
        "--scenario",
        "small.yaml",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--target",
        "1ms",
        "--output",
        "r.json",
        "--json",
        "-",
        "--markdown",
        "run.md",
        "--csv",
        "run.csv",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["summary"]["verdict"] == "FAIL"
    assert summary["summary"]["within_deadline"] == 0
    assert summary["summary"]["deadline_ms"] == 1
    assert "FAIL" in done.stderr
    # Every export of one run, as on compare: the same verdict in each.
    assert "FAIL" in (tmp_path / "run.md").read_text()
    rows = (tmp_path / "run.csv").read_text().splitlines()
    assert rows[0].startswith("metric,kind,unit,profile,n,")
    assert any(row.startswith("time-to-QR,") for row in rows[1:]), rows


@pytest.mark.parametrize(
    ("profile_yaml", "expected"),
    [
        ("browser:\n  timeout_ms: 1000\n  colour: red\n", "bad.yaml:3: browser.colour"),
        ("browser:\n  headless: [1, 2]\n", "bad.yaml:2: browser.headless"),
        ("browser:\n  timeout_ms: -5\n", "bad.yaml:2: browser.timeout_ms"),
        ("extends: no-such-profile\n", "no-such-profile"),
        ("browser:\n  args: [unclosed\n", "bad.yaml:"),
        ("web_version_cache:\n  type: sometimes\n", "bad.yaml:2: web_version_cache.type"),
    ],
    ids=["unknown-key", "wrong-type", "negative-timeout", "bad-extends", "bad-yaml", "bad-enum"],
)
def test_bad_profiles_give_one_clear_line_and_exit_2(
    tmp_path: Path, profile_yaml: str, expected: str
) -> None:
    write_yaml(tmp_path / "bad.yaml", profile_yaml)
    done = qrbench("run", "--profile", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]


def test_missing_profile_file_exits_2(tmp_path: Path) -> None:
    done = qrbench("run", "--profile", "nothere", cwd=tmp_path)
    assert done.returncode == 2
    assert "nothere" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_command_line_values_exit_2(tmp_path: Path) -> None:
    assert qrbench("run", "--runs", "0", cwd=tmp_path).returncode == 2
    done = qrbench("run", "--target", "-1", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "qrbench: error: --target: must be greater than 0 (got -1)"
    done = qrbench("run", "--target", "ten seconds", cwd=tmp_path)
    assert done.returncode == 2
    assert "--target: expected a duration like 10s, 800ms or 10m" in done.stderr


def test_missing_chromium_says_how_to_install_and_exits_3(tmp_path: Path) -> None:
    done = qrbench("run", cwd=tmp_path, env={"QRBENCH_CHROMIUM": str(tmp_path / "no-chromium")})
    assert done.returncode == 3
    assert "apt-get install chromium" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_keeps_finished_sessions_and_leaves_no_chromium(
    tmp_path: Path, sig: signal.Signals
) -> None:
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    results = tmp_path / "r.json"
    command = ["run", "--scenario", "small.yaml", "--runs", "30", "--warmup", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "qrbench", *command, "--output", str(results)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not results.exists():
            time.sleep(0.1)
        assert results.exists(), "no session finished within 60 s"
        # Land the signal inside the next session, while its browser runs.
        time.sleep(0.8)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    document = json.loads(results.read_text())
    assert 1 <= len(document["sessions"]) < 30
    assert all(s["ok"] for s in document["sessions"] if s["error"] is None)


def test_profiles_list_show_and_validate(tmp_path: Path) -> None:
    listed = qrbench("profiles", "list", cwd=tmp_path)
    assert listed.returncode == 0
    for name in ("optimized", "old", "new", "lan"):
        assert name in listed.stdout
    shown = qrbench("profiles", "show", "optimized", cwd=tmp_path)
    assert shown.returncode == 0
    assert "timeout_ms:" in shown.stdout
    assert "--single-process" in shown.stdout
    assert qrbench("profiles", "validate", "optimized", "new", cwd=tmp_path).returncode == 0
    write_yaml(tmp_path / "bad.yaml", "qr:\n  margin: -1\n")
    bad = qrbench("profiles", "validate", "optimized", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.yaml:2: qr.margin" in bad.stderr


def test_serve_prints_a_working_url_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "qrbench", "serve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.strip().startswith("open:"):
                url = line.split()[-1]
                break
        assert url.startswith("https://127.0.0.1:")
        # The run's own certificate: nothing trusts it but the Chromium qrbench starts.
        with urllib.request.urlopen(url, timeout=10, context=REPLICA_TLS) as response:
            html = response.read().decode("utf-8")
        assert "window.Debug" in html
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2, context=REPLICA_TLS)


def test_serve_args_prints_the_flags_of_a_replica_at_a_fixed_port(tmp_path: Path) -> None:
    state = {"QRBENCH_STATE_DIR": str(tmp_path / "state")}
    first = qrbench("serve", "--replica-port", "9443", "--args", cwd=tmp_path, env=state)
    assert first.returncode == 0, first.stderr
    rules, pin = first.stdout.splitlines()
    assert rules == (
        "--host-resolver-rules=MAP web.whatsapp.com 127.0.0.1:9443, "
        "MAP static.whatsapp.net 127.0.0.1:9444, MAP versions.wa-replica.test 127.0.0.1:9445"
    )
    assert pin.startswith("--ignore-certificate-errors-spki-list=")
    # Kept: a browser started with these flags serves later runs too.
    again = qrbench("serve", "--replica-port", "9443", "--args", cwd=tmp_path, env=state)
    assert again.stdout == first.stdout
    # With a profile, its flags come first, as qrbench launches its own Chromium.
    new = qrbench("serve", "--replica-port", "9443", "--args", "-p", "new", cwd=tmp_path, env=state)
    flags = new.stdout.splitlines()
    assert "--disable-web-security" in flags
    assert "--disable-background-networking" in flags
    assert flags[-2:] == [rules, pin]


def test_serve_args_without_a_fixed_port_is_refused(tmp_path: Path) -> None:
    done = qrbench("serve", "--args", cwd=tmp_path)
    assert done.returncode == 2
    assert "--args needs --replica-port" in done.stderr
    assert done.stdout == ""
