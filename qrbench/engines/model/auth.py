"""auth_restore and backup_sync: where the browser's profile comes from, and where it goes.

LocalAuth keeps `<data>/session-<id>` on disk. RemoteAuth, as whatsapp-web.js does it,
deletes `<data>/RemoteAuth-<id>`, asks the store whether the session exists, and if so
extracts its zip and unzips it there; while the session lives it zips the profile's
storage and saves it every `backup_sync_interval_ms`.
"""

import asyncio
import shutil
from pathlib import Path
from typing import assert_never

from qrbench.config.models import AuthStrategy, Profile, RemoteAuthFor
from qrbench.world.stores.archive import unzip_session, zip_session
from qrbench.world.stores.base import SessionStore


def uses_remote_auth(profile: Profile, *, restoring: bool) -> bool:
    """Whether the client keeps this session in the RemoteAuth store."""
    if profile.auth.strategy is AuthStrategy.LOCALAUTH:
        return False
    match profile.auth.remoteauth_for:
        case RemoteAuthFor.ALL:
            return True
        case RemoteAuthFor.RESTORE_ONLY:
            return restoring
        case _:
            assert_never(profile.auth.remoteauth_for)


def local_session_name(session_id: str) -> str:
    """LocalAuth's user-data dir name, as whatsapp-web.js names it for a clientId."""
    return f"session-{session_id}"


def prepare_local_auth(data_path: Path, session_id: str) -> Path:
    """The LocalAuth user-data dir; a new account has none yet, an existing one is reused."""
    user_data_dir = data_path / local_session_name(session_id)
    user_data_dir.mkdir(parents=True, exist_ok=True)
    return user_data_dir


def remote_session_name(session_id: str) -> str:
    return f"RemoteAuth-{session_id}"


async def restore_remote_auth(
    store: SessionStore, data_path: Path, session_id: str
) -> tuple[Path, bool]:
    """The RemoteAuth user-data dir, restored from the store when it holds the session."""
    name = remote_session_name(session_id)
    user_data_dir = data_path / name
    await asyncio.to_thread(shutil.rmtree, user_data_dir, ignore_errors=True)
    restored = await store.session_exists(name)
    if restored:
        zip_path = data_path / f"{name}.zip"
        await store.extract(name, zip_path)
        await asyncio.to_thread(unzip_session, zip_path, user_data_dir)
        zip_path.unlink()
    user_data_dir.mkdir(parents=True, exist_ok=True)
    return user_data_dir, restored


async def backup_remote_auth(store: SessionStore, user_data_dir: Path, session_id: str) -> int:
    """One backup_sync tick: zip the profile's storage and save it; returns the zip's size."""
    name = remote_session_name(session_id)
    zip_path = user_data_dir.parent / f"{name}.backup.zip"
    try:
        size = await asyncio.to_thread(zip_session, user_data_dir, zip_path)
        await store.save(name, zip_path)
    finally:
        zip_path.unlink(missing_ok=True)
    return size
