"""web_version: resolve the WhatsApp Web index HTML the way whatsapp-web.js's webVersionCache does.

`none` resolves nothing; `local` reads `<path>/<version>.html` and a miss falls back to the
live page; `remote` fetches `remote_path` before navigation. Whatever resolved is later
served for the index URL only, by route interception.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import assert_never

import aiohttp
from playwright.async_api import Page, Route

from qrbench.atomic import write_atomic
from qrbench.config.models import CacheType, WebVersionCache
from qrbench.errors import WebCacheMiss


class CacheOutcome(StrEnum):
    NOT_USED = "not_used"
    HIT = "hit"
    MISS = "miss"


@dataclass(frozen=True)
class ResolvedIndex:
    outcome: CacheOutcome
    html: bytes | None
    detail: str = ""


def cache_file(config: WebVersionCache, version: str) -> Path:
    return Path(config.path) / f"{version}.html"


async def resolve(
    config: WebVersionCache,
    version: str,
    *,
    timeout_ms: int,
    to_loopback: Callable[[str], str],
) -> ResolvedIndex:
    """The index HTML for `version`, or None to load the live page.

    `to_loopback` turns the replica's stable host names into 127.0.0.1 addresses for
    qrbench's own HTTP client (Chromium maps them with --host-resolver-rules).
    """
    match config.type:
        case CacheType.NONE:
            return ResolvedIndex(CacheOutcome.NOT_USED, None)
        case CacheType.LOCAL:
            path = cache_file(config, version)
            try:
                return ResolvedIndex(CacheOutcome.HIT, path.read_bytes(), str(path))
            except FileNotFoundError:
                return _miss(config, f"{path} does not exist")
        case CacheType.REMOTE:
            assert config.remote_path is not None  # the profile model requires it for remote
            url = config.remote_path.replace("{version}", version)
            try:
                html = await _fetch(to_loopback(url), timeout_ms)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _miss(config, f"GET {url}: {exc or type(exc).__name__}")
            if html is None:
                return _miss(config, f"GET {url}: not found")
            return ResolvedIndex(CacheOutcome.HIT, html, url)
        case _:
            assert_never(config.type)


def _miss(config: WebVersionCache, detail: str) -> ResolvedIndex:
    if config.strict:
        raise WebCacheMiss(detail)
    return ResolvedIndex(CacheOutcome.MISS, None, detail)


async def _fetch(url: str, timeout_ms: int) -> bytes | None:
    # A new client per fetch, as a gateway's fetch() opens a fresh connection per session.
    timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
        if response.status != 200:
            return None
        return await response.read()


async def serve_index(page: Page, index_url: str, html: bytes) -> None:
    """Answer the index request with the cached HTML; everything else goes to the network."""

    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    # A predicate, not a glob: the session's URL carries a query, and '?' means any
    # character in Playwright's globs.
    await page.route(lambda url: url == index_url, fulfil)


def persist(config: WebVersionCache, version: str, html: bytes) -> Path:
    """Write the loaded page's HTML to the local cache."""
    target = cache_file(config, version)
    write_atomic(target, html)
    return target
