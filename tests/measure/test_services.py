"""Where a run's replica listens, and how its sessions' browsers are sent to it."""

import asyncio
import contextlib
import urllib.request
from pathlib import Path

from qrbench.config.loader import load_profile, load_scenario
from qrbench.config.models import BrowserProviderKind, Profile
from qrbench.engines.base import SessionSetup
from qrbench.measure.services import open_services
from qrbench.world.stores import RunStores
from tests.fakes import FakeProvider
from tests.helpers import REPLICA_TLS


def _opened(profile: Profile, tmp_path: Path, **options: str) -> tuple[SessionSetup, int]:
    """The session setup a run of `profile` opens, and the status its page answers with."""

    async def scenario() -> tuple[SessionSetup, int]:
        async with contextlib.AsyncExitStack() as services:
            opened = await open_services(
                profile,
                load_scenario("lan"),
                FakeProvider(),
                tmp_path,
                services,
                RunStores(services),
                print,
                **options,
            )
            setup = opened.setup
            page = await asyncio.to_thread(
                urllib.request.urlopen,
                setup.to_loopback(setup.target_url),
                timeout=5,
                context=REPLICA_TLS,
            )
            with page:
                return setup, page.status

    return asyncio.run(scenario())


def test_a_local_browser_is_sent_to_the_stable_names_it_maps(tmp_path: Path) -> None:
    setup, status = _opened(load_profile("optimized"), tmp_path)
    assert setup.target_url == "https://web.whatsapp.com/"
    rules, certificate = setup.extra_args
    assert rules.startswith("--host-resolver-rules=MAP web.whatsapp.com 127.0.0.1:")
    assert certificate.startswith("--ignore-certificate-errors-spki-list=")
    assert status == 200


def test_a_remote_browser_is_sent_to_the_address_the_replica_listens_on(tmp_path: Path) -> None:
    optimized = load_profile("optimized")
    browser = optimized.browser.model_copy(
        update={"provider": BrowserProviderKind.CDP, "endpoints": ["http://127.0.0.1:9222"]}
    )
    profile = optimized.model_copy(update={"browser": browser})
    setup, status = _opened(profile, tmp_path, replica_bind="127.0.0.2")
    assert setup.target_url.startswith("https://127.0.0.2:")
    # It takes no launch flags from qrbench: no host mapping to pass.
    assert setup.extra_args == []
    assert status == 200
