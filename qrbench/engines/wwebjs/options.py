"""A profile as whatsapp-web.js's Client options, and the knobs the library cannot honour.

A knob the real library has no equivalent for is refused before any session runs
(ConfigError, exit 2) rather than silently dropped: a comparison between engines must
compare the same configuration.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any, assert_never

from qrbench.browsers.local import launch_args
from qrbench.config.models import (
    AuthStrategy,
    Browser,
    BrowserProviderKind,
    CachePersist,
    CacheType,
    Profile,
    Scenario,
    StoreBackend,
)
from qrbench.errors import ConfigError
from qrbench.world.faults import Fault, probability

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
    problems += _unreachable_browser(profile, scenario)
    if profile.browser.pool is not None:
        problems.append(
            (
                f"{where}: browser.pool",
                "the library launches a browser of its own per client; for browsers that "
                "outlive its logins, start N Chromiums with `qrbench serve --replica-port "
                "PORT --args` and give them as browser.provider cdp endpoints",
            )
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


def _unreachable_browser(profile: Profile, scenario: Scenario) -> list[tuple[str, str]]:
    """Why the library could not reach the replica through the profile's browser."""
    where, browser = f"profile {profile.name}", profile.browser
    match browser.provider:
        case BrowserProviderKind.LOCAL:
            return []
        case BrowserProviderKind.PLAYWRIGHT:
            return [
                (
                    f"{where}: browser.provider",
                    "puppeteer connects to a DevTools (cdp) endpoint, not a Playwright server",
                )
            ]
        case BrowserProviderKind.CDP:
            problems: list[tuple[str, str]] = []
            if browser.replica_port is None:
                problems.append(
                    (
                        f"{where}: browser.replica_port",
                        "the library opens its own https://web.whatsapp.com/, which a remote "
                        "Chromium reaches only when started with the flags of `qrbench serve "
                        "--replica-port PORT --args`; give that PORT here or as --replica-port",
                    )
                )
            if probability(scenario.faults, Fault.BROWSER_CRASH):
                problems.append(
                    (
                        f"scenario {scenario.name}: faults.browser_crash",
                        "killing a shared remote Chromium would end every session on it",
                    )
                )
            return problems
        case _:
            assert_never(browser.provider)


def client_options(
    profile: Profile,
    extra_args: list[str],
    remote_path_loopback: str | None,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """The `Client` options of `profile`, as the study's gateway passes them.

    `extra_args` are the harness's Chromium args (the replica's host mapping and
    certificate); `remote_path_loopback` is the remote cache URL as Node can reach it (Node
    does not read Chromium's host mapping). With a DevTools `endpoint` the library
    connects there (`browserURL` or `browserWSEndpoint`) instead of launching a browser.
    """
    browser = profile.browser
    options: dict[str, Any] = {
        "puppeteer": _puppeteer(browser, extra_args, endpoint),
        "authTimeoutMs": browser.auth_timeout_ms,
        "webVersion": profile.web_version,
        "webVersionCache": _web_version_cache(profile, remote_path_loopback),
        "qrMaxRetries": profile.qr.max_retries,
    }
    # None keeps the library's own default user agent, as a gateway that sets none does.
    if browser.user_agent is not None:
        options["userAgent"] = browser.user_agent
    return options


def remote_path_loopback(profile: Profile, to_loopback: Callable[[str], str]) -> str | None:
    """A remote web-version cache's URL as Node reaches it; None without one."""
    cache = profile.web_version_cache
    if cache.type is not CacheType.REMOTE or cache.remote_path is None:
        return None
    return to_loopback(cache.remote_path)


def _puppeteer(browser: Browser, extra_args: list[str], endpoint: str | None) -> dict[str, Any]:
    if endpoint is None:
        return {
            "executablePath": browser.executable_path,
            "headless": browser.headless,
            "args": launch_args(browser, extra_args),
            "timeout": browser.timeout_ms,
            "protocolTimeout": browser.protocol_timeout_ms,
        }
    # An http(s) URL is the DevTools server, which puppeteer asks for the browser's socket.
    key = "browserWSEndpoint" if endpoint.startswith(("ws://", "wss://")) else "browserURL"
    return {key: endpoint, "protocolTimeout": browser.protocol_timeout_ms}


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
