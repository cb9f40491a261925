"""chat_sync: after the phone scan, page through the chats, store them, tell the receiver.

The chats are read through the page, as whatsapp-web.js's getChats() reads them from
WhatsApp Web's store over the DevTools protocol; the replica's page offers
`WAReplica.fetchChats(offset, limit)` for that.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from qrbench.browsers.failures import translate
from qrbench.engines.handler.db import GatewayDb

PostBatch = Callable[[list[dict[str, Any]]], Awaitable[None]]


async def sync_chats(
    page: Page,
    db: GatewayDb,
    session_id: str,
    *,
    chats: int,
    batch_size: int,
    post_batch: PostBatch | None,
) -> int:
    """Fetch up to `chats` chats in batches; returns how many were synced."""
    synced = 0
    while synced < chats:
        limit = min(batch_size, chats - synced)
        try:
            batch: list[dict[str, Any]] = await page.evaluate(
                "([offset, limit]) => window.WAReplica.fetchChats(offset, limit)", [synced, limit]
            )
        except PlaywrightError as exc:
            raise translate(exc) from exc
        if not batch:
            break
        db.upsert_chats(session_id, batch)
        if post_batch is not None:
            await post_batch(batch)
        synced += len(batch)
    return synced
