"""A profile as whatsapp-web.js's Client options, and the knobs the library cannot honour."""

from pathlib import Path

import pytest

from qrbench.config.loader import load_profile, load_scenario
from qrbench.engines.wwebjs.options import check_profile, client_options
from qrbench.errors import ConfigError
from tests.helpers import write_yaml


def profile(tmp_path: Path, yaml: str):
    return load_profile(str(write_yaml(tmp_path / "p.yaml", yaml)))


def test_the_shipped_profiles_run_on_the_real_library() -> None:
    lan = load_scenario("lan")
    for name in ("old", "new", "optimized"):
        check_profile(load_profile(name), lan)


def test_options_carry_the_profiles_knobs(tmp_path: Path) -> None:
    new = load_profile("new")
    options = client_options(new, ["--host-resolver-rules=MAP x y"], "http://127.0.0.1:9/{version}")
    puppeteer = options["puppeteer"]
    assert puppeteer["executablePath"] == new.browser.executable_path
    assert puppeteer["timeout"] == puppeteer["protocolTimeout"] == 90000
    assert "--disable-web-security" in puppeteer["args"]
    assert "--host-resolver-rules=MAP x y" in puppeteer["args"]
    # The closed network needs these in every launch, the library's too.
    assert "--disable-background-networking" in puppeteer["args"]
    assert options["webVersionCache"] == {
        "type": "remote",
        "remotePath": "http://127.0.0.1:9/{version}",
        "strict": False,
    }
    assert options["authTimeoutMs"] == 0
    # No user agent in the profile: the library's own default, not qrbench's.
    assert "userAgent" not in options

    local = client_options(
        profile(
            tmp_path,
            "web_version_cache:\n  type: local\n  path: cache\nbrowser:\n  user_agent: UA/1\n",
        ),
        [],
        None,
    )
    assert local["webVersionCache"]["path"] == str(Path("cache").resolve())
    assert local["userAgent"] == "UA/1"


@pytest.mark.parametrize(
    ("yaml", "key"),
    [
        ("target:\n  url: http://127.0.0.1:9/\n", "target.url"),
        ("browser:\n  pool: 2\n", "browser.pool"),
        (
            "browser:\n  provider: cdp\n  endpoints: [http://127.0.0.1:9222]\n",
            "browser.replica_port",
        ),
        (
            "browser:\n  provider: playwright\n  endpoints: [ws://127.0.0.1:9222/x]\n",
            "browser.provider",
        ),
        ("web_version_cache:\n  type: local\n  persist: after_load\n", "web_version_cache.persist"),
        (
            "auth:\n  strategy: remoteauth\n  store:\n    backend: sqlite\n",
            "auth.store.backend",
        ),
        (
            "auth:\n  strategy: remoteauth\n  backup_sync_interval_ms: 1000\n",
            "auth.backup_sync_interval_ms",
        ),
    ],
)
def test_a_knob_the_library_cannot_honour_is_named(tmp_path: Path, yaml: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"cannot honour profile p: {key}"):
        check_profile(profile(tmp_path, yaml), load_scenario("lan"))


def test_a_scanning_scenario_is_refused(tmp_path: Path) -> None:
    scanning = load_scenario(str(write_yaml(tmp_path / "scan.yaml", "scan_after_ms: 500\n")))
    with pytest.raises(ConfigError, match="scenario scan: scan_after_ms"):
        check_profile(load_profile("optimized"), scanning)


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    both = profile(
        tmp_path,
        "target:\n  url: http://127.0.0.1:9/\nweb_version_cache:\n  persist: after_load\n",
    )
    with pytest.raises(ConfigError) as raised:
        check_profile(both, load_scenario("lan"))
    assert "target.url" in str(raised.value)
    assert "web_version_cache.persist" in str(raised.value)


_CDP = "browser:\n  provider: cdp\n  endpoints: [{endpoint}]\n  replica_port: 9443\n"


def test_a_cdp_browser_started_with_the_replicas_flags_is_accepted(tmp_path: Path) -> None:
    check_profile(
        profile(tmp_path, _CDP.format(endpoint="http://127.0.0.1:9222")), load_scenario("lan")
    )


def test_a_crash_fault_on_a_shared_remote_browser_is_refused(tmp_path: Path) -> None:
    crashing = load_scenario(
        str(write_yaml(tmp_path / "crash.yaml", "faults:\n  browser_crash: 0.1\n"))
    )
    cdp = profile(tmp_path, _CDP.format(endpoint="http://127.0.0.1:9222"))
    with pytest.raises(ConfigError, match=r"scenario crash: faults\.browser_crash"):
        check_profile(cdp, crashing)


@pytest.mark.parametrize(
    ("endpoint", "key"),
    [
        ("http://127.0.0.1:9222", "browserURL"),
        ("ws://127.0.0.1:9222/devtools/browser/abc", "browserWSEndpoint"),
    ],
)
def test_the_library_connects_to_a_devtools_endpoint_instead_of_launching(
    tmp_path: Path, endpoint: str, key: str
) -> None:
    cdp = profile(tmp_path, _CDP.format(endpoint=endpoint))
    puppeteer = client_options(cdp, [], None, endpoint)["puppeteer"]
    # Nothing of a launch: the browser was started by someone else, with its own flags.
    assert puppeteer == {key: endpoint, "protocolTimeout": cdp.browser.protocol_timeout_ms}
