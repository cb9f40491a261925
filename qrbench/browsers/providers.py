"""Which provider a profile's `browser` section asks for (docs/browsers.md)."""

from qrbench.browsers.base import BrowserProvider
from qrbench.browsers.local import LocalProvider, PlaywrightDriver
from qrbench.browsers.pool import PooledProvider
from qrbench.browsers.remote import RemoteProvider
from qrbench.config.models import Browser, BrowserProviderKind


def provider_for(config: Browser, driver: PlaywrightDriver | None = None) -> BrowserProvider:
    """The provider for `config`, on `driver` when given (a run's profiles share one)."""
    if config.provider is not BrowserProviderKind.LOCAL:
        return RemoteProvider(config.provider, config.endpoints, config.timeout_ms, driver)
    if config.pool is not None:
        return PooledProvider(config.pool, driver)
    return LocalProvider(driver)
