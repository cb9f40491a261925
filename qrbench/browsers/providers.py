"""Which provider a profile's `browser` section asks for (docs/browsers.md)."""

from qrbench.browsers.base import BrowserProvider
from qrbench.browsers.local import LocalProvider
from qrbench.browsers.pool import PooledProvider
from qrbench.browsers.remote import RemoteProvider
from qrbench.config.models import Browser, BrowserProviderKind


def provider_for(config: Browser) -> BrowserProvider:
    if config.provider is not BrowserProviderKind.LOCAL:
        return RemoteProvider(config.provider, config.endpoints, config.timeout_ms)
    if config.pool is not None:
        return PooledProvider(config.pool)
    return LocalProvider()
