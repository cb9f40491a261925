"""auth_restore: where the browser's profile comes from."""

from pathlib import Path


def prepare_local_auth(data_path: Path, session_id: str) -> Path:
    """LocalAuth, as whatsapp-web.js does it: `<data>/session-<id>` is the user-data dir.

    A new account has no such directory yet; an existing one is reused as is.
    """
    user_data_dir = data_path / f"session-{session_id}"
    user_data_dir.mkdir(parents=True, exist_ok=True)
    return user_data_dir
