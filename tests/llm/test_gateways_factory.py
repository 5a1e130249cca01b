"""get_gateway(route, provider): the right class, configured from settings, cached."""

import pytest

from llm.errors import ConfigurationError
from llm.gateways import gateways_from, get_gateway, reset_gateways
from llm.gateways.anthropic import AnthropicDirect
from llm.gateways.gemini import GeminiDirect
from llm.gateways.litellm_proxy import LiteLLMProxy
from llm.gateways.openai import OpenAIDirect


@pytest.fixture(autouse=True)
def configured(settings):
    settings.LLM_SECRETS_ID = ""
    settings.LITELLM_BASE_URL = "http://proxy.test:4000/"
    settings.LITELLM_API_KEY = "sk-litellm-factory"
    settings.OPENAI_API_KEY = "sk-openai-factory"
    settings.GEMINI_API_KEY = "gemini-factory"
    settings.ANTHROPIC_API_KEY = "sk-ant-factory"
    settings.OPENAI_BASE_URL = "http://openai.test/v1"
    settings.GEMINI_BASE_URL = "http://gemini.test"
    settings.ANTHROPIC_BASE_URL = "http://anthropic.test"
    reset_gateways()
    yield
    reset_gateways()


def test_proxy_gateway_serves_every_provider_from_one_cached_instance():
    gateway = get_gateway("proxy", "openai")
    assert isinstance(gateway, LiteLLMProxy)
    assert gateway.base_url == "http://proxy.test:4000"
    assert get_gateway("proxy", "gemini") is gateway


@pytest.mark.parametrize(
    ("provider", "cls", "base"),
    [
        ("openai", OpenAIDirect, "http://openai.test/v1"),
        ("gemini", GeminiDirect, "http://gemini.test"),
        ("anthropic", AnthropicDirect, "http://anthropic.test"),
    ],
)
def test_direct_gateway_per_provider_with_its_host(provider, cls, base):
    gateway = get_gateway("direct", provider)
    assert type(gateway) is cls
    assert gateway.base_url == base
    assert get_gateway("direct", provider) is gateway


def test_a_changed_key_gives_a_fresh_gateway(settings):
    first = get_gateway("direct", "openai")
    settings.OPENAI_API_KEY = "sk-openai-rotated"
    assert get_gateway("direct", "openai") is not first


def test_proxy_instances_share_one_http_client_per_base_url():
    a = LiteLLMProxy(base_url="http://proxy.test:4000", api_key="a")
    b = LiteLLMProxy(base_url="http://proxy.test:4000/", api_key="b")
    c = LiteLLMProxy(base_url="http://other.test", api_key="a")
    assert a._client is b._client
    assert a._client is not c._client


def test_no_proxy_url_is_a_clear_configuration_error(settings):
    settings.LITELLM_BASE_URL = ""
    with pytest.raises(ConfigurationError) as info:
        get_gateway("proxy", "openai")
    assert "LITELLM_BASE_URL" in info.value.detail


def test_missing_key_is_a_clear_configuration_error(settings):
    settings.ANTHROPIC_API_KEY = ""
    with pytest.raises(ConfigurationError) as info:
        get_gateway("direct", "anthropic")
    assert "ANTHROPIC_API_KEY" in info.value.detail


@pytest.mark.parametrize(("route", "provider"), [("direct", "mistral"), ("carrier", "openai")])
def test_unknown_route_or_provider(route, provider):
    with pytest.raises(ConfigurationError):
        get_gateway(route, provider)


def test_no_key_in_any_repr():
    for gateway in (
        get_gateway("proxy", ""),
        get_gateway("direct", "openai"),
        get_gateway("direct", "gemini"),
        get_gateway("direct", "anthropic"),
    ):
        text = repr(gateway)
        assert "factory" not in text, text


def test_gateways_from_puts_other_gateways_in_place_until_the_block_ends():
    stand_in = object()
    with gateways_from(lambda route, provider: stand_in):
        assert get_gateway("proxy", "openai") is stand_in
        assert get_gateway("direct", "nobody") is stand_in  # the factory decides, not the table
    assert get_gateway("proxy", "openai") is not stand_in


def test_only_the_direct_gateways_can_list_remote_files():
    proxy = get_gateway("proxy", "openai")
    assert not proxy.lists_files
    with pytest.raises(NotImplementedError):
        proxy.list_files()
    assert all(get_gateway("direct", p).lists_files for p in ("openai", "gemini", "anthropic"))
