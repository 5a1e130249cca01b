"""Ways of reaching models. get_gateway(route, provider) is how everyone else obtains one;
gateways_from(factory) is the one place to put other gateways in their stead (tests, tools)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from llm.gateways.base import Gateway

GatewayFactory = Callable[[str, str], Gateway]

_cache: dict[tuple, Gateway] = {}
_lock = threading.Lock()
_factory: GatewayFactory | None = None


def get_gateway(route: str, provider: str) -> Gateway:
    """The gateway for `route` ("proxy" or "direct") and `provider` ("openai", "gemini",
    "anthropic"; ignored for the proxy, which serves every provider).

    Instances are cached per configuration (base URL and key), so a rotated key or a changed
    setting gives a fresh one; clients and their connections are reused otherwise.
    """
    factory = _factory
    if factory is not None:
        return factory(route, provider)
    from llm.conf import conf
    from llm.errors import ConfigurationError
    from llm.secrets import get_api_key

    if route == "proxy":
        key = ("proxy", conf.LITELLM_BASE_URL, get_api_key("litellm"))
    elif route == "direct":
        if provider not in _DIRECT:
            raise ConfigurationError(f"No direct gateway for provider {provider!r}.")
        key = ("direct", provider, _direct_base_url(provider), get_api_key(provider))
    else:
        raise ConfigurationError(f"Unknown route {route!r}.")
    gateway = _cache.get(key)
    if gateway is None:
        with _lock:
            gateway = _cache.get(key)
            if gateway is None:
                gateway = _build(key)
                _cache[key] = gateway
    return gateway


@contextmanager
def gateways_from(factory: GatewayFactory) -> Iterator[None]:
    """Inside the block, every get_gateway(route, provider) returns factory(route, provider),
    in every thread."""
    global _factory
    previous, _factory = _factory, factory
    try:
        yield
    finally:
        _factory = previous


def reset_gateways() -> None:
    """Forget cached gateways (tests; after a settings change)."""
    with _lock:
        _cache.clear()


_DIRECT = {
    "openai": ("llm.gateways.openai", "OpenAIDirect", "OPENAI_BASE_URL"),
    "gemini": ("llm.gateways.gemini", "GeminiDirect", "GEMINI_BASE_URL"),
    "anthropic": ("llm.gateways.anthropic", "AnthropicDirect", "ANTHROPIC_BASE_URL"),
}


def _direct_base_url(provider: str) -> str:
    from llm.conf import conf

    return getattr(conf, _DIRECT[provider][2], "") or ""


def _build(key: tuple) -> Gateway:
    import importlib

    if key[0] == "proxy":
        from llm.gateways.litellm_proxy import LiteLLMProxy

        return LiteLLMProxy(base_url=key[1], api_key=key[2])
    _, provider, base_url, api_key = key
    module, cls, _ = _DIRECT[provider]
    return getattr(importlib.import_module(module), cls)(base_url=base_url or None, api_key=api_key)
