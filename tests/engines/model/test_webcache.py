import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from qrbench.config.models import WebVersionCache
from qrbench.engines.model.webcache import CacheOutcome, ResolvedIndex, persist, resolve
from qrbench.errors import WebCacheMiss
from tests.helpers import PageServer

VERSION = "2.3000.1017054665"


def resolve_now(
    config: WebVersionCache, to_loopback: Callable[[str], str] = lambda url: url
) -> ResolvedIndex:
    return asyncio.run(resolve(config, VERSION, timeout_ms=2000, to_loopback=to_loopback))


def test_none_resolves_nothing() -> None:
    assert resolve_now(WebVersionCache()).outcome is CacheOutcome.NOT_USED


def test_local_hit_reads_the_versioned_file(tmp_path: Path) -> None:
    (tmp_path / f"{VERSION}.html").write_bytes(b"<html>cached</html>")
    resolved = resolve_now(WebVersionCache(type="local", path=str(tmp_path)))
    assert (resolved.outcome, resolved.html) == (CacheOutcome.HIT, b"<html>cached</html>")


def test_local_miss_falls_back_to_the_live_page(tmp_path: Path) -> None:
    resolved = resolve_now(WebVersionCache(type="local", path=str(tmp_path)))
    assert (resolved.outcome, resolved.html) == (CacheOutcome.MISS, None)


def test_strict_local_miss_fails(tmp_path: Path) -> None:
    with pytest.raises(WebCacheMiss, match=VERSION):
        resolve_now(WebVersionCache(type="local", path=str(tmp_path), strict=True))


def test_persist_then_hit(tmp_path: Path) -> None:
    config = WebVersionCache(type="local", path=str(tmp_path / "cache"), persist="after_load")
    written = persist(config, VERSION, b"<html>live</html>")
    assert written == tmp_path / "cache" / f"{VERSION}.html"
    assert resolve_now(config).html == b"<html>live</html>"


def test_remote_fetches_the_version_with_a_real_request() -> None:
    with PageServer({f"/html/{VERSION}.html": "<html>remote</html>"}) as server:
        remote_path = "http://versions.example.test/html/{version}.html"
        resolved = resolve_now(
            WebVersionCache(type="remote", remote_path=remote_path),
            to_loopback=lambda url: url.replace("http://versions.example.test/", server.url("/")),
        )
    assert (resolved.outcome, resolved.html) == (CacheOutcome.HIT, b"<html>remote</html>")


def test_remote_404_is_a_miss_and_strict_makes_it_a_failure() -> None:
    with PageServer({}) as server:
        remote_path = server.url("/html/{version}.html")
        resolved = resolve_now(WebVersionCache(type="remote", remote_path=remote_path))
        assert resolved.outcome is CacheOutcome.MISS
        assert "not found" in resolved.detail
        with pytest.raises(WebCacheMiss):
            resolve_now(WebVersionCache(type="remote", remote_path=remote_path, strict=True))


def test_remote_unreachable_is_a_miss() -> None:
    remote_path = "http://127.0.0.1:9/html/{version}.html"
    resolved = resolve_now(WebVersionCache(type="remote", remote_path=remote_path))
    assert resolved.outcome is CacheOutcome.MISS
