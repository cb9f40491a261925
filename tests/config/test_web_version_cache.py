"""A local web-version cache folder that cannot be one is a located profile error at load,
not a NotADirectoryError in every session."""

import textwrap
from pathlib import Path

import pytest

from qrbench.config.loader import ProfileError, load_profile
from qrbench.config.models import CHROMIUM_ENV


@pytest.fixture(autouse=True)
def no_chromium_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)


def profile(tmp_path: Path, cache: str) -> Path:
    path = tmp_path / "cached.yaml"
    text = "extends: optimized\nweb_version_cache:\n" + textwrap.indent(cache, "  ")
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_as_the_cache_folder_names_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "cache.html").write_text("")
    path = profile(tmp_path, "type: local\npath: cache.html\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path), cwd=tmp_path)
    error = caught.value
    assert (error.file, error.line, error.key_path) == (path, 4, "web_version_cache.path")
    assert "cache.html cannot be the local cache folder (it is not a folder)" in str(error)


def test_a_folder_below_a_file_names_the_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("")
    path = profile(tmp_path, "type: local\npath: notes/cache\n")
    with pytest.raises(ProfileError, match=f"{tmp_path / 'notes'} is not a folder"):
        load_profile(str(path), cwd=tmp_path)


def test_an_inherited_path_is_located_where_the_parent_wrote_it(tmp_path: Path) -> None:
    (tmp_path / ".wwebjs_cache").write_text("")
    with pytest.raises(ProfileError) as caught:
        load_profile(str(profile(tmp_path, "type: local\n")), cwd=tmp_path)
    assert caught.value.file.name == "optimized.yaml"
    assert caught.value.key_path == "web_version_cache.path"


def test_the_default_path_is_located_at_the_type_that_asked_for_it(tmp_path: Path) -> None:
    (tmp_path / ".wwebjs_cache").write_text("")
    path = tmp_path / "plain.yaml"
    path.write_text("browser:\n  headless: true\nweb_version_cache:\n  type: local\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path), cwd=tmp_path)
    assert (caught.value.file, caught.value.line) == (path, 4)


@pytest.mark.parametrize(
    "cache",
    [
        "type: local\npath: not/made/yet\n",  # created when the first page is persisted
        "type: local\npath: folder\n",
        "type: none\npath: cache.html\n",  # no local cache: the path is never used
    ],
)
def test_a_missing_folder_or_an_unused_path_loads(tmp_path: Path, cache: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "cache.html").write_text("")
    load_profile(str(profile(tmp_path, cache)), cwd=tmp_path)
    assert not (tmp_path / "not").exists()
