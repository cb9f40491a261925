"""`qrbench profiles show|validate`: every problem of a file, and a scenario found by name."""

from pathlib import Path

from tests.helpers import qrbench, write_yaml

# Three problems, written in an order pydantic does not report them in.
THREE_PROBLEMS = """\
qr:
  margin: -1
browser:
  bogus_key: 3
timeouts:
  qr_ms: -5
"""


def test_validate_reports_every_problem_sorted_by_line(tmp_path: Path) -> None:
    write_yaml(tmp_path / "three.yaml", THREE_PROBLEMS)
    done = qrbench("profiles", "validate", "three.yaml", "optimized", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "✗ three.yaml:2: qr.margin: must be greater than or equal to 0 (got -1)",
        "✗ three.yaml:4: browser.bogus_key: unknown key 'bogus_key' (allowed: executable_path, "
        "headless, timeout_ms, protocol_timeout_ms, navigation_timeout_ms, auth_timeout_ms, "
        "args, user_agent, provider, endpoints, pool, replica_port)",
        "✗ three.yaml:5: timeouts: unknown key 'timeouts' (allowed: description, engine, "
        "world, target, auth, browser, web_version, web_version_cache, qr, webhook, db, routing, "
        "chat_sync, retry, gate, gateway, extends)",
    ]
    assert done.stdout.strip() == "✓ optimized"


def test_a_command_that_loads_the_file_says_the_first_problem_and_how_many_more(
    tmp_path: Path,
) -> None:
    write_yaml(tmp_path / "three.yaml", THREE_PROBLEMS)
    done = qrbench("compare", "three.yaml", "optimized", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("qrbench: error: three.yaml:4: browser.bogus_key: unknown key")
    assert line.endswith("(and 2 more)")


def test_show_finds_a_scenario_by_its_name_or_as_told(tmp_path: Path) -> None:
    shown = qrbench("profiles", "show", "lan", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("name: lan\n")
    assert "replica:" in shown.stdout
    write_yaml(tmp_path / "world.yaml", "extends: lan\nreplica:\n  index_kb: 100\n")
    as_profile = qrbench("profiles", "show", "world.yaml", cwd=tmp_path)
    assert as_profile.returncode == 2
    as_scenario = qrbench("profiles", "show", "world.yaml", "--kind", "scenario", cwd=tmp_path)
    assert as_scenario.returncode == 0, as_scenario.stderr
    assert "index_kb: 100" in as_scenario.stdout
    wrong = qrbench("profiles", "show", "lan", "--kind", "world", cwd=tmp_path)
    assert wrong.returncode == 2
    assert "--kind" in wrong.stderr
