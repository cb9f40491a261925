import json
import re
import textwrap
from pathlib import Path

import pytest

from qrbench.config.loader import (
    ProfileError,
    list_profiles,
    list_scenarios,
    load_profile,
    load_scenario,
)
from qrbench.config.models import (
    CHROMIUM_ENV,
    CachePersist,
    CacheType,
    OriginNetwork,
    ScenarioNetwork,
    profile_to_dict,
)
from qrbench.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_PROFILES = REPO_ROOT / "qrbench" / "profiles"
SHIPPED_SCENARIOS = SHIPPED_PROFILES / "scenarios"
OPTIMIZED_ARGS = [
    "--no-sandbox",
    "--disable-setuid-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--single-process",
    "--disable-extensions",
    "--no-zygote",
    "--no-first-run",
    "--disable-web-security",
]


@pytest.fixture(autouse=True)
def no_chromium_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)


def write(path: Path, text: str) -> Path:
    """Write YAML whose first line is the first line of `text` after its opening newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def profile_error(ref: str, cwd: Path) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        load_profile(ref, cwd=cwd)
    return caught.value


# --- shipped files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["old", "new", "optimized", "pooled"])
def test_shipped_profile_loads_from_an_unrelated_directory(name: str, tmp_path: Path) -> None:
    profile = load_profile(name, cwd=tmp_path)

    assert profile.name == name
    assert profile.description
    assert "--disable-background-networking" not in profile.browser.args  # the harness's flag


def test_optimized_profile_carries_the_studys_fix(tmp_path: Path) -> None:
    profile = load_profile("optimized", cwd=tmp_path)

    assert (profile.auth.strategy, profile.auth.remoteauth_for) == ("remoteauth", "restore_only")
    assert profile.browser.timeout_ms == profile.browser.protocol_timeout_ms == 30000
    assert profile.browser.args == OPTIMIZED_ARGS
    assert profile.web_version_cache.type is CacheType.LOCAL
    assert profile.web_version_cache.path == ".wwebjs_cache"
    assert profile.web_version_cache.persist is CachePersist.NEVER
    assert (profile.qr.error_correction, profile.qr.width, profile.qr.margin) == ("M", 256, 2)
    assert profile.target.deadline_s == 10
    assert (profile.webhook.mode, profile.db.updates) == ("background", "combined")
    assert not (profile.routing.multi_instance or profile.chat_sync.on_ready or profile.qr.dedupe)


def test_old_and_new_profiles_differ_where_the_study_says(tmp_path: Path) -> None:
    old = load_profile("old", cwd=tmp_path)
    new = load_profile("new", cwd=tmp_path)

    assert "--single-process" in old.browser.args
    assert "--single-process" not in new.browser.args
    assert "--disable-features=VizDisplayCompositor" in new.browser.args
    assert (old.browser.timeout_ms, new.browser.timeout_ms) == (30000, 90000)
    assert new.browser.protocol_timeout_ms == 90000
    assert old.web_version_cache.type is CacheType.LOCAL
    assert new.web_version_cache.type is CacheType.REMOTE
    assert "{version}" in (new.web_version_cache.remote_path or "")
    assert (old.qr.dedupe, new.qr.dedupe) == (False, True)
    for qr in (old.qr, new.qr):
        assert (qr.error_correction, qr.width, qr.margin) == ("M", None, 4)
    assert (old.auth.strategy, new.auth.strategy) == ("localauth", "remoteauth")
    assert new.auth.backup_sync_interval_ms == 60000
    assert (old.webhook.mode, new.webhook.mode) == ("background", "blocking")
    assert (old.db.updates, new.db.updates) == ("combined", "split")
    assert (old.routing.multi_instance, new.routing.multi_instance) == (False, True)
    assert (old.chat_sync.on_ready, new.chat_sync.on_ready) == (False, True)


def test_shipped_lan_scenario_uses_default_replica_sizes(tmp_path: Path) -> None:
    scenario = load_scenario("lan", cwd=tmp_path)

    assert scenario.name == "lan"
    assert (scenario.replica.index_kb, scenario.replica.bundle_kb) == (600, 4096)


@pytest.mark.parametrize("name", ["lan", "typical", "slow-vps", "field"])
def test_shipped_scenario_loads_from_an_unrelated_directory(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name, cwd=tmp_path)

    assert scenario.name == name
    assert scenario.description


def test_lan_shapes_nothing(tmp_path: Path) -> None:
    scenario = load_scenario("lan", cwd=tmp_path)

    assert scenario.network == ScenarioNetwork()
    assert scenario.cpu.slowdown == 1


def test_typical_declares_the_issues_round_trips(tmp_path: Path) -> None:
    scenario = load_scenario("typical", cwd=tmp_path)
    network = scenario.network

    assert (network.whatsapp.latency_ms, network.static.latency_ms) == (60, 60)
    assert network.version_host.latency_ms == 150
    assert scenario.webhook.processing_ms == 150
    assert network.whatsapp.download_kbps == network.static.download_kbps == 20_000
    assert scenario.cpu.slowdown == 1
    # Everything else is lan's: the same replica page, so only the world differs.
    assert scenario.replica == load_scenario("lan", cwd=tmp_path).replica


def test_field_takes_its_figures_from_the_sources_it_cites(tmp_path: Path) -> None:
    field = load_scenario("field", cwd=tmp_path)
    network = field.network

    assert network.whatsapp.latency_ms == network.static.latency_ms == 13
    assert network.version_host.download_kbps == 800  # 100 KB/s
    assert field.cpu.slowdown == pytest.approx(1.45 / 1.02, abs=0.005)
    assert field.webhook.processing_ms == 200  # the middle of the study's 100-300 ms
    # Every value in the file comes with its source, or says that none was found.
    text = (SHIPPED_SCENARIOS / "field.yaml").read_text().splitlines()
    for number, line in enumerate(text):
        key, _, value = line.partition("#")[0].partition(":")
        if not value.strip() or key.strip() in ("description", "extends"):
            continue
        said = "\n".join(text[max(0, number - 6) : number + 1])
        assert re.search(r"https://|study|No public figure|same", said), line


def test_slow_vps_is_lan_with_a_cpu_four_times_slower(tmp_path: Path) -> None:
    slow_vps = load_scenario("slow-vps", cwd=tmp_path)
    lan = load_scenario("lan", cwd=tmp_path)

    assert slow_vps.cpu.slowdown == 4
    # Everything else is lan's: only the CPU differs.
    lan_cpu = {"name": lan.name, "description": lan.description, "cpu": lan.cpu}
    assert slow_vps.model_copy(update=lan_cpu) == lan


def test_scenario_network_extends_per_origin_and_per_key(tmp_path: Path) -> None:
    write(tmp_path / "far.yaml", "extends: typical\nnetwork:\n  whatsapp: {latency_ms: 300}\n")

    network = load_scenario("far.yaml", cwd=tmp_path).network

    assert network.whatsapp == OriginNetwork(latency_ms=300, download_kbps=20000, upload_kbps=5000)
    assert network.version_host.latency_ms == 150


BAD_SCENARIOS = {
    "negative latency": (
        "network:\n  whatsapp:\n    latency_ms: -1\n",
        3,
        "network.whatsapp.latency_ms",
        "greater than or equal to 0",
    ),
    "zero bandwidth": (
        "network:\n  static: {download_kbps: 0}\n",
        2,
        "network.static.download_kbps",
        "greater than 0",
    ),
    "infinite bandwidth": (
        "network:\n  webhook: {upload_kbps: .inf}\n",
        2,
        "network.webhook.upload_kbps",
        "finite number",
    ),
    "unknown origin": (
        "network:\n  whatsap: {latency_ms: 60}\n",
        2,
        "network.whatsap",
        "did you mean 'whatsapp'?",
    ),
    "cpu faster than the machine": (
        "cpu:\n  slowdown: 0.5\n",
        2,
        "cpu.slowdown",
        "greater than or equal to 1",
    ),
    "fault probability over one": (
        "faults:\n  hang: 1.5\n",
        2,
        "faults.hang",
        "less than or equal to 1",
    ),
    "fault probabilities adding up to more than one": (
        "faults:\n  seed: 2\n  hang: 0.6\n  drop: 0.6\n",
        1,
        "faults",
        "add up to 1.2, more than 1",
    ),
    "unknown fault": ("faults:\n  meteor: 0.1\n", 2, "faults.meteor", "unknown key 'meteor'"),
}


@pytest.mark.parametrize(
    ("text", "line", "key_path", "fragment"), BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys()
)
def test_bad_scenario_names_file_key_path_and_line(
    tmp_path: Path, text: str, line: int, key_path: str, fragment: str
) -> None:
    path = write(tmp_path / "bad.yaml", text)

    with pytest.raises(ProfileError) as caught:
        load_scenario("bad.yaml", cwd=tmp_path)

    error = caught.value
    assert (error.file, error.line, error.key_path) == (path, line, key_path)
    assert fragment in error.message


def test_profile_to_dict_is_json_safe(tmp_path: Path) -> None:
    data = profile_to_dict(load_profile("new", cwd=tmp_path))

    assert json.loads(json.dumps(data)) == data
    assert data["web_version_cache"]["type"] == "remote"
    assert data["name"] == "new"


def test_empty_profile_gets_every_default(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "empty.yaml", "")

    profile = load_profile("empty", cwd=tmp_path)

    assert profile.browser.executable_path == "/usr/bin/chromium"
    assert profile.browser.headless is True
    assert profile.web_version == "2.3000.1017054665"
    assert profile.web_version_cache.type is CacheType.NONE
    assert profile.target.url is None


# --- name resolution --------------------------------------------------------------------


def test_local_profiles_directory_shadows_shipped_profile(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "optimized.yaml", "description: our own\n")

    profile = load_profile("optimized", cwd=tmp_path)

    assert profile.description == "our own"
    assert profile.browser.args == []


def test_reference_with_a_slash_or_suffix_is_a_path_relative_to_cwd(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "mine.yml", "description: by path\n")
    write(tmp_path / "top.yaml", "description: top level\n")

    assert load_profile("elsewhere/mine.yml", cwd=tmp_path).name == "mine"
    assert load_profile("top.yaml", cwd=tmp_path).description == "top level"


def test_local_scenario_shadows_shipped_scenario(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "scenarios" / "lan.yaml", "replica: {index_kb: 1}\n")

    assert load_scenario("lan", cwd=tmp_path).replica.index_kb == 1


def test_chromium_environment_variable_overrides_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "p.yaml", "browser:\n  executable_path: /opt/team/chrome\n")

    assert load_profile("p.yaml", cwd=tmp_path).browser.executable_path == "/opt/team/chrome"
    monkeypatch.setenv(CHROMIUM_ENV, "/home/me/chromium")
    assert load_profile("p.yaml", cwd=tmp_path).browser.executable_path == "/home/me/chromium"
    assert load_profile("optimized", cwd=tmp_path).browser.executable_path == "/home/me/chromium"


# --- extends ----------------------------------------------------------------------------


def test_extends_deep_merges_child_over_parent(tmp_path: Path) -> None:
    write(
        tmp_path / "profiles" / "base.yaml",
        """
        description: base
        browser:
          headless: false
          timeout_ms: 1000
          args: [--a, --b]
        qr:
          margin: 1
        """,
    )
    write(
        tmp_path / "profiles" / "child.yaml",
        """
        extends: base
        browser:
          timeout_ms: 2000
          args: [--c]
        """,
    )

    profile = load_profile("child", cwd=tmp_path)

    assert profile.name == "child"
    assert profile.browser.timeout_ms == 2000  # scalar overridden
    assert profile.browser.args == ["--c"]  # list replaced, not appended
    assert profile.browser.headless is False  # sibling key kept
    assert profile.qr.margin == 1  # untouched section kept
    assert profile.description == "base"


def test_file_outside_profiles_directory_extends_a_shipped_name(tmp_path: Path) -> None:
    write(
        tmp_path / "experiments" / "wide_qr.yaml",
        """
        extends: optimized
        qr:
          width: 512
        """,
    )

    profile = load_profile("experiments/wide_qr.yaml", cwd=tmp_path)

    assert profile.browser.args == OPTIMIZED_ARGS
    assert (profile.qr.width, profile.qr.margin) == (512, 2)


def test_extends_name_prefers_the_file_next_to_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "base.yaml", "description: from cwd profiles\n")
    write(tmp_path / "team" / "base.yaml", "description: next to the child\n")
    write(tmp_path / "team" / "child.yaml", "extends: base\n")

    assert load_profile("team/child.yaml", cwd=tmp_path).description == "next to the child"


def test_extends_path_is_relative_to_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path / "a" / "base.yaml", "target: {deadline_s: 3}\n")
    write(tmp_path / "a" / "b" / "child.yaml", "extends: ../base.yaml\n")

    assert load_profile("a/b/child.yaml", cwd=tmp_path).target.deadline_s == 3


def test_scenario_extends_the_shipped_lan(tmp_path: Path) -> None:
    write(tmp_path / "slow.yaml", "extends: lan\nreplica: {bundle_kb: 8192}\n")

    scenario = load_scenario("slow.yaml", cwd=tmp_path)

    assert (scenario.replica.index_kb, scenario.replica.bundle_kb) == (600, 8192)


# --- listing ----------------------------------------------------------------------------


def test_list_profiles_local_shadows_shipped_and_is_sorted(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "optimized.yaml", "description: ours\n")
    write(tmp_path / "profiles" / "aaa.yaml", "extends: old\n")

    entries = {entry.name: entry for entry in list_profiles(cwd=tmp_path)}

    assert list(entries) == [
        "aaa",
        "gateway-new",
        "gateway-old",
        "gateway-optimized",
        "new",
        "old",
        "optimized",
        "pooled",
    ]
    assert entries["optimized"].shipped is False
    assert entries["optimized"].path == tmp_path / "profiles" / "optimized.yaml"
    assert entries["optimized"].description == "ours"
    assert entries["aaa"].description == entries["old"].description  # inherited via extends
    assert entries["old"].shipped is True


def test_list_profiles_keeps_broken_files_listed(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "broken.yaml", "browser: [\n")

    entries = {entry.name: entry for entry in list_profiles(cwd=tmp_path)}

    assert entries["broken"].description == ""


def test_list_from_repo_root_marks_symlinked_profiles_as_shipped() -> None:
    entries = list_profiles(cwd=REPO_ROOT)

    assert {entry.name for entry in entries} >= {"old", "new", "optimized"}
    assert all(entry.shipped for entry in entries)


def test_list_scenarios_includes_lan(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "scenarios" / "wan.yaml", "description: far away\n")

    entries = list_scenarios(cwd=tmp_path)

    names = ["field", "flaky", "lan", "slow-vps", "typical", "wan"]
    assert [entry.name for entry in entries] == names
    assert [entry.shipped for entry in entries] == [True, True, True, True, True, False]


# --- errors -----------------------------------------------------------------------------

BAD_PROFILES = {
    "endpoints for a local browser": (
        """
        browser:
          endpoints: [ws://127.0.0.1:9222/]
        """,
        2,
        "browser.endpoints",
        "only for provider playwright or cdp, not local",
    ),
    "a remote provider without endpoints": (
        """
        browser:
          provider: playwright
        """,
        # Missing: reported at its section's line, where the key should go.
        1,
        "browser.endpoints",
        "required when provider is playwright",
    ),
    "an endpoint that is no URL": (
        """
        browser:
          provider: cdp
          endpoints:
            - 127.0.0.1:9222
        """,
        3,
        "browser.endpoints",
        "'127.0.0.1:9222' is not a ws:// or wss:// or http:// or https:// URL",
    ),
    "a pool of remote browsers": (
        """
        browser:
          provider: cdp
          endpoints: [http://127.0.0.1:9222]
          pool: 2
        """,
        4,
        "browser.pool",
        "only for provider local",
    ),
    "a pool of single-process browsers": (
        """
        browser:
          args: [--single-process]
          pool: 2
        """,
        3,
        "browser.pool",
        "cannot run with --single-process",
    ),
    "no attempt at all": (
        """
        retry:
          attempts: 0
        """,
        2,
        "retry.attempts",
        "greater than or equal to 1",
    ),
    "negative auth timeout": (
        """
        browser:
          auth_timeout_ms: -1
        """,
        2,
        "browser.auth_timeout_ms",
        "greater than or equal to 0",
    ),
    "unknown key": (
        """
        description: typo
        browser:
          headless: true
          timout_ms: 5
        """,
        4,
        "browser.timout_ms",
        "unknown key 'timout_ms', did you mean 'timeout_ms'?",
    ),
    "unknown top-level key": (
        "descripton: x\n",
        1,
        "descripton",
        "did you mean 'description'?",
    ),
    "wrong type": (
        """
        browser:
          headless: maybe
        """,
        2,
        "browser.headless",
        "must be a valid boolean",
    ),
    "wrong type in a list item": (
        """
        browser:
          args:
            - --ok
            - {not: a string}
        """,
        4,
        "browser.args.1",
        "must be a valid string (got a mapping)",
    ),
    "negative timeout": (
        """
        # comment lines count too
        description: x


        browser:
          timeout_ms: -5
        """,
        6,
        "browser.timeout_ms",
        "must be greater than 0 (got -5)",
    ),
    "zero protocol timeout": (
        "browser: {protocol_timeout_ms: 0}\n",
        1,
        "browser.protocol_timeout_ms",
        "must be greater than 0 (got 0)",
    ),
    "negative margin": ("qr:\n  margin: -1\n", 2, "qr.margin", "greater than or equal to 0"),
    "bad enum": (
        """
        web_version_cache:
          path: x
          type: disk
        """,
        3,
        "web_version_cache.type",
        "must be 'none', 'local' or 'remote' (got 'disk')",
    ),
    "unknown strategy": (
        "auth:\n  strategy: cloudauth\n",
        2,
        "auth.strategy",
        "'localauth' or 'remoteauth' (got 'cloudauth')",
    ),
    "bad error correction": ("qr:\n  error_correction: X\n", 2, "qr.error_correction", "'H'"),
    "bad web version": ("web_version: latest\n", 1, "web_version", "(got 'latest')"),
    "remote cache without remote_path": (
        """
        description: x
        web_version_cache:
          type: remote
        """,
        2,
        "web_version_cache.remote_path",
        "required when type is remote",
    ),
    "section not a mapping": (
        "browser:\n  - --no-sandbox\n",
        1,
        "browser",
        "must be a mapping of keys (got a list)",
    ),
    "empty section": ("description: x\nqr:\n", 2, "qr", "must be a mapping of keys (got null)"),
    "name is not a key": ("description: x\nname: other\n", 2, "name", "named after its file"),
    "duplicate key": (
        "browser:\n  headless: true\n  headless: false\n",
        3,
        "browser.headless",
        "duplicate key (first on line 2)",
    ),
    "boolean key": ("browser:\n  yes: 1\n", 2, "browser", "keys must be text"),
    "malformed YAML": ("description: x\nbrowser: [a, b\nqr: {}\n", 3, None, "invalid YAML"),
    "top level not a mapping": ("# a list\n- a\n- b\n", 2, None, "top level must be a mapping"),
    "bad extends value": ("description: x\nextends: [old]\n", 2, "extends", "must be a profile"),
}


@pytest.mark.parametrize(
    ("text", "line", "key_path", "fragment"), BAD_PROFILES.values(), ids=BAD_PROFILES.keys()
)
def test_bad_profile_names_file_key_path_and_line(
    tmp_path: Path, text: str, line: int, key_path: str | None, fragment: str
) -> None:
    path = write(tmp_path / "profiles" / "bad.yaml", text)

    error = profile_error("bad", tmp_path)

    assert (error.file, error.line, error.key_path) == (path, line, key_path)
    assert fragment in error.message
    assert str(error).startswith(f"{path}:{line}: ")
    if key_path:
        assert f":{line}: {key_path}: " in str(error)
    assert "pydantic" not in str(error)
    assert isinstance(error, ConfigError)
    assert error.exit_code == 2


def test_error_string_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "profiles" / "bad.yaml",
        "\n".join(["# x"] * 5) + "\nbrowser:\n  timeout_ms: -5\n",
    )
    monkeypatch.chdir(tmp_path)

    error = profile_error("bad", tmp_path)

    assert str(error) == "profiles/bad.yaml:7: browser.timeout_ms: must be greater than 0 (got -5)"


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "p.yaml", "browser:\n  timeout_ms: 0\n  protocol_timeout_ms: 0\n")

    error = profile_error("p.yaml", tmp_path)

    assert error.key_path == "browser.timeout_ms"
    assert error.message.endswith("(and 1 more)")


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    write(tmp_path / "p.yaml", "qr:\n  colour: red\n")

    error = profile_error("p.yaml", tmp_path)

    assert "(allowed: error_correction, width, margin, dedupe, max_retries)" in error.message


def test_error_in_parent_names_the_parent_file_and_line(tmp_path: Path) -> None:
    parent = write(
        tmp_path / "profiles" / "base.yaml",
        """
        description: base
        browser:
          headless: true
          timeout_ms: -1
        """,
    )
    write(tmp_path / "child.yaml", "description: child\nextends: base\nqr: {width: 300}\n")

    error = profile_error("child.yaml", tmp_path)

    assert (error.file, error.line, error.key_path) == (parent, 4, "browser.timeout_ms")


def test_error_in_child_overriding_the_parent_names_the_child(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "browser:\n  timeout_ms: 1000\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\n\nbrowser:\n  timeout_ms: -1\n")

    error = profile_error("child.yaml", tmp_path)

    assert (error.file, error.line) == (child, 4)


def test_child_fixing_a_parent_value_is_valid(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "browser:\n  timeout_ms: -1\n")
    write(tmp_path / "child.yaml", "extends: base.yaml\nbrowser:\n  timeout_ms: 5\n")

    assert load_profile("child.yaml", cwd=tmp_path).browser.timeout_ms == 5


def test_unknown_key_in_a_scenario_names_the_scenario_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "extends: lan\nreplica:\n  index_kb: 1\n  bundle: 2\n")

    with pytest.raises(ProfileError) as caught:
        load_scenario("s.yaml", cwd=tmp_path)

    error = caught.value
    assert (error.file, error.line, error.key_path) == (path, 4, "replica.bundle")
    assert "did you mean 'bundle_kb'?" in error.message


def test_extends_cycle_is_detected(tmp_path: Path) -> None:
    write(tmp_path / "profiles" / "a.yaml", "extends: b\n")
    b = write(tmp_path / "profiles" / "b.yaml", "description: b\nextends: a\n")

    error = profile_error("a", tmp_path)

    assert (error.file, error.line, error.key_path) == (b, 2, "extends")
    assert "cycle" in error.message
    assert "a.yaml -> " in error.message


def test_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "self.yaml", "extends: self.yaml\n")

    assert "cycle" in profile_error("self.yaml", tmp_path).message


def test_missing_extends_target_names_where_it_looked(tmp_path: Path) -> None:
    child = write(tmp_path / "team" / "child.yaml", "# a comment\nextends: nowhere\n")

    error = profile_error("team/child.yaml", tmp_path)

    assert (error.file, error.line, error.key_path) == (child, 2, "extends")
    assert str(tmp_path / "team" / "nowhere.yaml") in error.message
    assert str(tmp_path / "profiles" / "nowhere.yaml") in error.message
    assert str(SHIPPED_PROFILES / "nowhere.yaml") in error.message


def test_missing_profile_name_says_where_it_looked_and_what_exists(tmp_path: Path) -> None:
    error = profile_error("fastest", tmp_path)

    assert str(tmp_path / "profiles" / "fastest.yaml") in error.message
    assert str(SHIPPED_PROFILES / "fastest.yaml") in error.message
    assert "available: gateway-new, gateway-old, gateway-optimized, new, old, optimized" in (
        error.message
    )
    assert error.line is None


def test_missing_profile_path(tmp_path: Path) -> None:
    error = profile_error("nope/missing.yaml", tmp_path)

    assert error.file == tmp_path / "nope" / "missing.yaml"
    assert "no such profile file" in str(error)


def test_missing_scenario_lists_available_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        load_scenario("moon", cwd=tmp_path)

    assert "no scenario named 'moon'" in caught.value.message
    assert "available: field, flaky, lan, slow-vps, typical" in caught.value.message


def test_missing_remote_path_does_not_echo_a_value_nobody_wrote(tmp_path: Path) -> None:
    write(tmp_path / "p.yaml", "web_version_cache: {type: remote}\n")

    error = profile_error("p.yaml", tmp_path)

    assert error.message == "required when type is remote"


def test_every_problem_of_a_file_is_kept_by_line_across_extends(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "qr:\n  margin: -1\n")
    write(
        tmp_path / "child.yaml",
        """
        extends: base.yaml
        retry:
          attempts: 0
        browser:
          bogus: 1
        """,
    )
    with pytest.raises(ProfileError) as caught:
        load_profile("child.yaml", cwd=tmp_path)
    problems = [(p.file.name, p.line, p.key_path) for p in caught.value.problems]
    assert problems == [
        ("base.yaml", 2, "qr.margin"),
        ("child.yaml", 3, "retry.attempts"),
        ("child.yaml", 5, "browser.bogus"),
    ]
    # One line for the commands that stop at it: the typo first, and how many more.
    assert str(caught.value).endswith("(and 2 more)")
    assert caught.value.key_path == "browser.bogus"


def test_a_single_problem_is_its_own_list(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", "qr:\n  margin: -1\n")
    with pytest.raises(ProfileError) as caught:
        load_profile("one.yaml", cwd=tmp_path)
    assert caught.value.problems == (caught.value,)
    assert "more)" not in str(caught.value)
