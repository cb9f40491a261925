"""The session pipeline against pages written here (not the replica), in real Chromium."""

import asyncio
from pathlib import Path

import aiohttp
import pytest

from qrbench.browsers.local import LocalProvider
from qrbench.clock import SessionTimer
from qrbench.config.loader import load_profile
from qrbench.config.models import Profile
from qrbench.engines.base import PreparedSession, SessionSetup
from qrbench.engines.handler.db import GatewayDb
from qrbench.engines.handler.session import run_session
from qrbench.engines.model.engine import ModelEngine
from qrbench.records import SessionResult, Stage
from tests.helpers import PageServer, qr_page, write_yaml

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_leftover_chromium")]

DATA_REF = "2@qrbenchTestRef,bm9pc2U=,aWRlbnRpdHk=,YWR2"


def profile_for(tmp_path: Path, url: str, extra: str = "") -> Profile:
    path = write_yaml(
        tmp_path / "page.yaml",
        f"target:\n  url: {url}\nbrowser:\n  timeout_ms: 5000\n  protocol_timeout_ms: 5000\n"
        + extra,
    )
    return load_profile(str(path))


def run_one(profile: Profile, tmp_path: Path) -> SessionResult:
    async def go() -> SessionResult:
        db = GatewayDb(tmp_path / "gateway.db")
        db.create_account(1, "test")
        try:
            async with LocalProvider() as provider, aiohttp.ClientSession() as http:
                setup = SessionSetup(
                    provider=provider,
                    profile=profile,
                    data_path=tmp_path / "data",
                    target_url=str(profile.target.url),
                    extra_args=[],
                    to_loopback=lambda url: url,
                    db=db,
                    http=http,
                )
                session = PreparedSession(setup, "test", SessionTimer(), fault=None)
                return await run_session(
                    session, ModelEngine, number=1, warmup=False, workspace_id=1
                )
        finally:
            db.close()

    return asyncio.run(go())


def stage(result: SessionResult, name: Stage) -> float:
    (duration,) = [s.duration_ms for s in result.stages if s.name == name]
    return duration


def test_custom_page_qr_is_timed_and_verified(tmp_path: Path) -> None:
    with PageServer({"/": qr_page(DATA_REF, delay_after_load_ms=0)}) as server:
        result = run_one(profile_for(tmp_path, server.url("/")), tmp_path)
    assert result.ok, result.error
    expected = ["route", "auth_restore", "browser_launch", "web_version", "page_load",
                "qr_wait", "qr_encode", "db_update", "qr_verify"]  # fmt: skip
    assert [s.name for s in result.stages] == expected
    assert all(s.ok for s in result.stages)
    assert result.refs_seen == 1
    critical_end = max(s.start_ms + s.duration_ms for s in result.stages if s.critical)
    assert result.time_to_qr_ms == pytest.approx(critical_end, abs=0.2)
    verify = next(s for s in result.stages if s.name == Stage.QR_VERIFY)
    assert not verify.critical
    assert verify.start_ms >= critical_end - 0.2


def test_qr_wait_measures_when_the_page_shows_the_qr(tmp_path: Path) -> None:
    with PageServer({"/": qr_page(DATA_REF, delay_after_load_ms=1500)}) as server:
        result = run_one(profile_for(tmp_path, server.url("/")), tmp_path)
    assert result.ok, result.error
    assert stage(result, Stage.QR_WAIT) == pytest.approx(1500, abs=100)


def test_page_without_qr_is_a_recorded_timeout(tmp_path: Path) -> None:
    page = "<html><body><p>no QR here</p></body></html>"
    with PageServer({"/": page}) as server:
        profile = profile_for(tmp_path, server.url("/"), "  auth_timeout_ms: 3000\n")
        result = run_one(profile, tmp_path)
    assert not result.ok
    assert result.time_to_qr_ms is None
    assert result.error is not None
    # Neither window.Debug.VERSION nor a QR: the client's authTimeoutMs ends the wait.
    assert (result.error.stage, result.error.type) == ("qr_wait", "AuthTimeout")
    assert stage(result, Stage.QR_WAIT) == pytest.approx(3000, abs=300)
    assert result.stages[-1].ok is False


def test_canvas_that_does_not_match_data_ref_fails_verification(tmp_path: Path) -> None:
    page = qr_page(DATA_REF, delay_after_load_ms=0, canvas_text="2@somethingElse")
    with PageServer({"/": page}) as server:
        result = run_one(profile_for(tmp_path, server.url("/")), tmp_path)
    assert not result.ok
    assert result.error is not None
    assert (result.error.stage, result.error.type) == ("qr_verify", "QrMismatch")


def test_unreachable_target_is_a_recorded_navigation_failure(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback has no listener here: the connection is refused.
    result = run_one(profile_for(tmp_path, "http://127.0.0.1:9/"), tmp_path)
    assert not result.ok
    assert result.error is not None
    assert (result.error.stage, result.error.type) == ("page_load", "NavigationFailed")


def test_missing_browser_binary_is_a_recorded_launch_failure(tmp_path: Path) -> None:
    fake = write_yaml(tmp_path / "not-chromium", "#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    with PageServer({"/": qr_page(DATA_REF, delay_after_load_ms=0)}) as server:
        profile = profile_for(tmp_path, server.url("/"))
    profile = profile.model_copy(
        update={"browser": profile.browser.model_copy(update={"executable_path": str(fake)})}
    )
    result = run_one(profile, tmp_path)
    assert result.error is not None
    assert (result.error.stage, result.error.type) == ("browser_launch", "BrowserLaunchFailed")
