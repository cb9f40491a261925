"""--world as a user gives it: the live world fails fast and plainly without a network."""

import json
from pathlib import Path

import pytest

from qrbench.world.live import LIVE_URL_ENV
from tests.helpers import ENVIRONMENT, SMALL_WORLD, qrbench, results_document, write_yaml
from tests.world.test_live import StandIn

REAL_LIVE = ["--engine", "whatsapp-web.js", "--world", "live"]
# A name that never resolves: what a machine without DNS for WhatsApp meets.
NOWHERE = {LIVE_URL_ENV: "https://web.whatsapp.invalid/"}


def test_live_without_the_network_is_exit_3_naming_host_and_step(tmp_path: Path) -> None:
    done = qrbench("run", "-p", "optimized", *REAL_LIVE, cwd=tmp_path, env=NOWHERE)
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "qrbench: error: the live world is unreachable: web.whatsapp.invalid: DNS lookup failed"
    )
    assert "--world replica" in line
    # Refused before any session: nothing written.
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--world", "live"], "the model engine is qrbench's model"),
        (["run", "--world", "moon"], "'moon' is not one of 'replica', 'live'"),
        (["run", "-p", "moon.yaml"], "moon.yaml:2: world: must be 'replica' or 'live'"),
        (["gate", "--results", "r.json", "--world", "live"], "--world: only for a gate that runs"),
        (["compare", "a.json", "b.json", "--world", "live"], "--world: only for profiles run now"),
    ],
)
def test_a_world_that_cannot_be_is_exit_2_before_any_session(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    write_yaml(tmp_path / "moon.yaml", "extends: optimized\nworld: moon\n")
    done = qrbench(*args, cwd=tmp_path, env=NOWHERE)
    assert done.returncode == 2, done.stderr
    assert expected in " ".join(done.stderr.split())


def test_compare_warns_when_the_runs_were_in_different_worlds(tmp_path: Path) -> None:
    replica = results_document("optimized", [1000.0 + n for n in range(6)])
    live = results_document(
        "optimized", [1500.0 + n for n in range(6)], environment={**ENVIRONMENT, "world": "live"}
    )
    older = results_document("old", [1100.0 + n for n in range(6)])  # before "world"
    for name, document in (("replica", replica), ("live", live), ("older", older)):
        (tmp_path / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")

    done = qrbench("compare", "replica.json", "live.json", cwd=tmp_path)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stderr
    assert "the world (replica or live) differs between the runs: optimized replica, " in text
    assert "compare runs of one world (--world)" in text
    # A file from before the world was recorded was on the replica.
    same = qrbench("compare", "older.json", "replica.json", cwd=tmp_path)
    assert "world" not in same.stdout


@pytest.mark.browser
@pytest.mark.usefixtures("no_leftover_chromium")
def test_in_the_live_world_the_real_library_opens_the_real_host(tmp_path: Path) -> None:
    # A stand-in passes the check; the session then opens the real web.whatsapp.com with
    # no replica and no host mapping, which this machine cannot reach: a recorded failure.
    stand_in = StandIn(tmp_path, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    write_yaml(tmp_path / "small.yaml", SMALL_WORLD)
    try:
        done = qrbench(
            "run",
            *REAL_LIVE,
            "-s",
            "small.yaml",
            "-n",
            "1",
            "-w",
            "0",
            "-o",
            "live.json",
            cwd=tmp_path,
            env={LIVE_URL_ENV: stand_in.url, "SSL_CERT_FILE": str(stand_in.cert)},
        )
    finally:
        stand_in.close()
    assert done.returncode == 3, done.stderr
    document = json.loads((tmp_path / "live.json").read_text(encoding="utf-8"))
    assert document["environment"]["world"] == "live"
    assert document["profile"]["world"] == "live"
    (session,) = document["sessions"]
    assert not session["ok"]
    assert "web.whatsapp.com" in session["error"]["message"]
