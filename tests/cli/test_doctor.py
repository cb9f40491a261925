"""`qrbench doctor` as a user runs it: exit 0 when the profile can run here, 3 with the fix
when something it needs is missing, each cause made real (a missing binary, a Chromium that
will not start, an address this machine does not have, a closed port, no redis-server)."""

import os
import shutil
import socket
from pathlib import Path

import pytest

from qrbench.world.live import LIVE_URL_ENV
from tests.helpers import free_ports, qrbench, qrbench_with_small_shm, write_yaml


@pytest.mark.browser
def test_the_optimized_profile_is_ready_here(tmp_path: Path) -> None:
    done = qrbench("doctor", "-p", "optimized", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready: this machine has everything profile optimized" in done.stdout
    # The launch was real and measured.
    assert "an idle tree of" in done.stdout and "sessions of" in done.stdout


def test_no_chromium_is_exit_3_with_the_install_command(tmp_path: Path) -> None:
    done = qrbench("doctor", cwd=tmp_path, env={"QRBENCH_CHROMIUM": "/nonexistent"})

    assert done.returncode == 3
    assert "apt-get install chromium" in " ".join(done.stdout.split())
    assert "not ready for profile optimized" in done.stdout


@pytest.mark.browser
def test_a_chromium_that_will_not_start_with_the_profiles_args_is_exit_3(tmp_path: Path) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    broken.chmod(0o755)

    done = qrbench("doctor", cwd=tmp_path, env={"QRBENCH_CHROMIUM": str(broken)})

    assert done.returncode == 3
    assert "Chromium did not start with the profile's args" in " ".join(done.stdout.split())


def test_an_address_this_machine_does_not_have_is_exit_3_naming_it(tmp_path: Path) -> None:
    # 192.0.2.0/24 is TEST-NET-1: never a local address.
    done = qrbench(
        "doctor",
        "--replica-bind",
        "192.0.2.1",
        cwd=tmp_path,
        env={"QRBENCH_CHROMIUM": "/nonexistent"},
    )

    assert done.returncode == 3
    assert "cannot bind a port on 192.0.2.1" in " ".join(done.stdout.split())


def test_a_fixed_replica_port_in_use_is_exit_3_naming_it(tmp_path: Path) -> None:
    port = free_ports(3)
    with socket.create_server(("127.0.0.1", port + 2)):
        done = qrbench(
            "doctor",
            *("--replica-port", str(port)),
            cwd=tmp_path,
            env={"QRBENCH_CHROMIUM": "/nonexistent"},
        )

    assert done.returncode == 3
    assert f"cannot bind a port on 127.0.0.1 port {port + 2}" in " ".join(done.stdout.split())


def test_an_unreachable_browser_endpoint_is_exit_3_naming_it(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"

    done = qrbench(
        "doctor", "--browser-provider", "cdp", "--browser-endpoint", endpoint, cwd=tmp_path
    )

    assert done.returncode == 3
    assert f"browser endpoint {endpoint} is unreachable" in " ".join(done.stdout.split())


def test_remoteauth_on_redis_without_redis_server_is_exit_3(tmp_path: Path) -> None:
    # An empty PATH: no redis-server (nor node, which the model engine does not need).
    empty = tmp_path / "bin"
    empty.mkdir()

    done = qrbench("doctor", "-p", "new", cwd=tmp_path, env={"PATH": str(empty)})

    shown = " ".join(done.stdout.split())
    assert done.returncode == 3, shown
    assert "apt-get install redis-server" in shown
    assert "not ready for profile new on engine model: chromium launch" not in shown
    assert "node and npm no (not needed)" in shown  # said, but not counted


def test_the_real_library_needs_node_and_says_so(tmp_path: Path) -> None:
    done = qrbench(
        "doctor",
        "--engine",
        "whatsapp-web.js",
        cwd=tmp_path,
        env={"QRBENCH_NODE": str(tmp_path / "no-node"), "QRBENCH_CHROMIUM": "/nonexistent"},
    )

    shown = " ".join(done.stdout.split())
    assert done.returncode == 3
    assert "needs Node.js" in shown and "node and npm" in shown


def test_live_says_plainly_whether_web_whatsapp_com_answers(tmp_path: Path) -> None:
    done = qrbench("doctor", "--live", cwd=tmp_path, env={"QRBENCH_CHROMIUM": "/nonexistent"})

    shown = " ".join(done.stdout.split())
    live = [line for line in done.stdout.splitlines() if line.startswith("web.whatsapp.com")]
    assert live, done.stdout
    # This machine has no route out; a machine with one says ok instead.
    assert "web.whatsapp.com: DNS lookup failed" in shown or " ok " in live[0]
    assert done.returncode == 3  # Chromium is missing either way


def test_a_live_profile_is_checked_for_the_live_world_without_being_asked(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text(
        "extends: optimized\nengine: whatsapp-web.js\nworld: live\n", encoding="utf-8"
    )
    done = qrbench(
        "doctor", "-p", "live.yaml", cwd=tmp_path, env={LIVE_URL_ENV: "https://nowhere.invalid/"}
    )
    shown = " ".join(done.stdout.split())
    assert "nowhere.invalid: DNS lookup failed" in shown
    assert done.returncode == 3


@pytest.mark.browser
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"
)
def test_a_small_dev_shm_is_a_warning_with_the_advice(tmp_path: Path) -> None:
    profile = write_yaml(
        tmp_path / "profiles" / "shm.yaml",
        "extends: optimized\nbrowser:\n  args: [--no-sandbox, --disable-gpu]\n",
    )
    # 16 MB, about a default Docker container's.
    done = qrbench_with_small_shm("16m", "doctor", "-p", str(profile), cwd=tmp_path)

    shown = " ".join(done.stdout.split())
    assert done.returncode == 0, shown + done.stderr  # a warning, not a failure
    assert "/dev/shm warn 16 MB" in shown
    assert "add --disable-dev-shm-usage to browser.args" in shown
