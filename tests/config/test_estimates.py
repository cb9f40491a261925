"""Estimates files: someone's guessed savings per knob group, found and read like profiles."""

from pathlib import Path

import pytest

from qrbench.analysis.explain.knobs import GROUPS_BY_ID
from qrbench.config.estimates import _GroupEstimates, load_estimates
from qrbench.errors import ConfigError
from tests.helpers import write_yaml


def test_the_study_estimates_ship_and_are_found_from_any_directory(tmp_path: Path) -> None:
    estimates = load_estimates("seed", cwd=tmp_path)
    assert set(estimates.by_group) <= set(GROUPS_BY_ID)
    assert estimates.by_group["auth"].saving_ms == 5000
    assert estimates.by_group["webhook"].saving_ms == 500
    assert "chromium_args" not in estimates.by_group  # the study puts no number on it


def test_a_local_estimates_file_by_name_or_path(tmp_path: Path) -> None:
    write_yaml(
        tmp_path / "profiles" / "estimates" / "mine.yaml",
        "estimates:\n  webhook:\n    saving_ms: 300\n",
    )
    assert load_estimates("mine", cwd=tmp_path).by_group["webhook"].saving_ms == 300
    path = "profiles/estimates/mine.yaml"
    assert load_estimates(path, cwd=tmp_path).by_group["webhook"].note == ""


def test_estimates_have_one_field_per_knob_group() -> None:
    assert list(_GroupEstimates.model_fields) == list(GROUPS_BY_ID)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "estimates:\n  auth:\n    saving_ms: 5000\n  webhok:\n    saving_ms: 500\n",
            "guesses.yaml:4: estimates.webhok: unknown key 'webhok', did you mean 'webhook'?",
        ),
        (
            "estimates:\n  webhook:\n    saving_ms: fast\n",
            "guesses.yaml:3: estimates.webhook.saving_ms: must be a valid number, unable to "
            "parse string as a number (got 'fast')",
        ),
        (
            "estimates:\n  webhook:\n    note: no number\n",
            "guesses.yaml:2: estimates.webhook.saving_ms: missing (required)",
        ),
        ("estimates:\n  webhook: [1, 2\n", "guesses.yaml:3: invalid YAML"),
        ("description: nothing else\n", "guesses.yaml: estimates: missing (required)"),
        ("estimate:\n  webhook: {}\n", "guesses.yaml:1: estimate: unknown key 'estimate'"),
    ],
)
def test_a_bad_estimates_file_names_file_line_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    write_yaml(tmp_path / "guesses.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_estimates("guesses.yaml", cwd=tmp_path)
    assert str(raised.value).startswith(
        message.replace("guesses.yaml", str(tmp_path / "guesses.yaml"))
    )


def test_an_unknown_estimates_name_says_where_it_looked_and_lists_the_known_ones(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_estimates("sed", cwd=tmp_path)
    message = str(raised.value)
    assert "no estimates named 'sed' (looked in " in message
    assert str(tmp_path / "profiles" / "estimates" / "sed.yaml") in message
    assert message.endswith("available: seed)")


def test_a_missing_estimates_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: no such estimates file"):
        load_estimates("nowhere.yaml", cwd=tmp_path)
