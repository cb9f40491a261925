"""The session a scenario says is already in the RemoteAuth store (`remote_session`).

Built once per run, before any timing, from a real Chromium profile that loaded the page,
let it do its work up to its QR (its keys in IndexedDB, its service worker, its assets in
Cache Storage: docs/replica.md) and wrote the kind of storage a logged-in WhatsApp Web
keeps, plus filler up to the scenario's size: restoring it costs what restoring such a
session really costs.
"""

import asyncio
import shutil
from pathlib import Path

from qrbench.browsers.base import BrowserProvider
from qrbench.config.models import Browser
from qrbench.world.replica import boot
from qrbench.world.stores.archive import build_remote_session_zip

# whatsapp-web.js's legacy session keys, and the user's data in WhatsApp Web's user
# database (the store the replica's page made, its keys given out of line).
_LOGGED_IN_STORAGE = """
async ({database, store}) => {
  const random = (n) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
  localStorage.setItem('WABrowserId', JSON.stringify(random(16)));
  localStorage.setItem('WASecretBundle', JSON.stringify({key: random(32), encKey: random(32)}));
  localStorage.setItem('WAToken1', JSON.stringify(random(32)));
  localStorage.setItem('WAToken2', JSON.stringify('1@' + random(96)));
  localStorage.setItem('last-wid-md', JSON.stringify('6281234567890:12@c.us'));
  await new Promise((resolve, reject) => {
    const opening = indexedDB.open(database);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      try {
        const tx = opening.result.transaction(store, 'readwrite');
        for (let i = 0; i < 200; i++) tx.objectStore(store).put(random(512), 'k' + i);
        tx.oncomplete = () => { opening.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      } catch (error) {
        reject(error);  // the page made no such store: fail, not hang
      }
    };
  });
}
"""


async def build_preloaded_session(
    provider: BrowserProvider,
    config: Browser,
    target_url: str,
    extra_args: list[str],
    workdir: Path,
    size_mb: float,
) -> Path:
    """A session zip of `size_mb` MB made from a real profile; returns its path."""
    profile_dir = workdir / "preload-profile"
    browser = await provider.launch(config, profile_dir, extra_args)
    try:
        context = browser.context
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(target_url, wait_until="load")
        await page.wait_for_selector("div[data-ref]", timeout=config.timeout_ms)
        await page.evaluate(
            _LOGGED_IN_STORAGE, {"database": boot.USER_DATABASE, "store": boot.USER_STORE}
        )
    finally:
        await browser.close()
    zip_path = workdir / "preloaded-session.zip"
    await asyncio.to_thread(build_remote_session_zip, profile_dir, size_mb, zip_path)
    shutil.rmtree(profile_dir, ignore_errors=True)
    return zip_path
