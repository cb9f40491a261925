"""A profile as whatsapp-web.js's Client options, and the knobs the library cannot honour.

A knob the real library has no equivalent for is refused before any session runs
(ConfigError, exit 2) rather than silently dropped: a comparison between engines must
compare the same configuration.
"""

from pathlib import Path
from typing import Any, assert_never

from qrbench.browsers.local import launch_args
from qrbench.config.models import (
    AuthStrategy,
    BrowserProviderKind,
    CachePersist,
    CacheType,
    Profile,
    Scenario,
    StoreBackend,
)
from qrbench.errors import ConfigError

# RemoteAuth's constructor refuses anything shorter.
MIN_BACKUP_SYNC_INTERVAL_MS = 60000


def check_profile(profile: Profile, scenario: Scenario) -> None:
    """ConfigError naming every knob of `profile` or `scenario` the library cannot honour."""
    problems = _unhonoured(profile, scenario)
    if problems:
        named = "; ".join(f"{key} ({why})" for key, why in problems)
        raise ConfigError(
            f"the whatsapp-web.js engine cannot honour {named}; change it or use --engine model"
        )


def _unhonoured(profile: Profile, scenario: Scenario) -> list[tuple[str, str]]:
    where = f"profile {profile.name}"
    problems: list[tuple[str, str]] = []
    if profile.target.url is not None:
        problems.append(
            (f"{where}: target.url", "the library always opens its own https://web.whatsapp.com/")
        )
    if profile.web_version_cache.persist is not CachePersist.NEVER:
        problems.append(
            (
                f"{where}: web_version_cache.persist",
                "the library writes its local cache only after a login, never after a QR",
            )
        )
    if profile.browser.provider is not BrowserProviderKind.LOCAL:
        problems.append(
            (
                f"{where}: browser.provider",
                "the library opens its own https://web.whatsapp.com/, which only a Chromium "
                "launched with the replica's host mapping reaches",
            )
        )
    if profile.browser.pool is not None:
        problems.append(
            (f"{where}: browser.pool", "the library launches a browser of its own per client")
        )
    auth = profile.auth
    if auth.strategy is AuthStrategy.REMOTEAUTH:
        if auth.store.backend is StoreBackend.SQLITE:
            problems.append((f"{where}: auth.store.backend", "its RemoteAuth store here is Redis"))
        if auth.backup_sync_interval_ms < MIN_BACKUP_SYNC_INTERVAL_MS:
            problems.append(
                (
                    f"{where}: auth.backup_sync_interval_ms",
                    f"RemoteAuth accepts {MIN_BACKUP_SYNC_INTERVAL_MS} or more",
                )
            )
    if scenario.scan_after_ms is not None:
        problems.append(
            (
                f"scenario {scenario.name}: scan_after_ms",
                "the replica cannot log the real library in: it serves the QR screen only",
            )
        )
    return problems


def client_options(
    profile: Profile, extra_args: list[str], remote_path_loopback: str | None
) -> dict[str, Any]:
    """The `Client` options of `profile`, as the study's gateway passes them.

    `extra_args` are the harness's Chromium args (the replica's host mapping and
    certificate); `remote_path_loopback` is the remote cache URL as Node can reach it (Node
    does not read Chromium's host mapping).
    """
    browser = profile.browser
    options: dict[str, Any] = {
        "puppeteer": {
            "executablePath": browser.executable_path,
            "headless": browser.headless,
            "args": launch_args(browser, extra_args),
            "timeout": browser.timeout_ms,
            "protocolTimeout": browser.protocol_timeout_ms,
        },
        "authTimeoutMs": browser.auth_timeout_ms,
        "webVersion": profile.web_version,
        "webVersionCache": _web_version_cache(profile, remote_path_loopback),
        "qrMaxRetries": profile.qr.max_retries,
    }
    # None keeps the library's own default user agent, as a gateway that sets none does.
    if browser.user_agent is not None:
        options["userAgent"] = browser.user_agent
    return options


def _web_version_cache(profile: Profile, remote_path_loopback: str | None) -> dict[str, Any]:
    cache = profile.web_version_cache
    match cache.type:
        case CacheType.NONE:
            return {"type": "none"}
        case CacheType.LOCAL:
            # The driver runs in its own directory: a relative path means qrbench's.
            return {
                "type": "local",
                "path": str(Path(cache.path).resolve()),
                "strict": cache.strict,
            }
        case CacheType.REMOTE:
            return {"type": "remote", "remotePath": remote_path_loopback, "strict": cache.strict}
        case _:
            assert_never(cache.type)
