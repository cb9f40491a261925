"""The README and docs/ as a reader follows them: every relative link leads somewhere."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# [text](target) outside code; an image's ![alt](target) too. Targets have no spaces.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")


def relative_links(page: Path) -> list[str]:
    text = _CODE.sub("", _FENCE.sub("", page.read_text()))
    targets = [match[1] for match in _LINK.finditer(text)]
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_the_pages_have_links_to_check() -> None:
    # A parser that found nothing would pass every page below.
    assert "docs/install.md" in relative_links(ROOT / "README.md")
    assert len(PAGES) > 5


def test_a_missing_target_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("See [here](nowhere.md#part), `[not](a-link.md)` and [web](https://x.y).\n")
    assert relative_links(page) == ["nowhere.md#part"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_exists(page: Path) -> None:
    broken = [
        link for link in relative_links(page) if not (page.parent / link.split("#", 1)[0]).exists()
    ]
    assert broken == [], f"{page.relative_to(ROOT)} links to missing {broken}"


def test_the_readme_stays_short() -> None:
    # A newcomer reads it in five minutes; the detail lives in docs/.
    assert len((ROOT / "README.md").read_bytes()) <= 10_240
