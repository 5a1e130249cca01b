"""Our LiteLLMProxy gateway through the real LiteLLM proxy in front of the simulator, for all three
providers: upload, generate by file id (and inline), delete, health, and how every upstream fault
the proxy passes on lands in the llm.errors class the policy dispatches on."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from llm.errors import (
    FileGone,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RouteUnavailable,
)
from llm.gateways import get_gateway, reset_gateways
from llm.gateways.litellm_proxy import LiteLLMProxy
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.fixtures.litellm import UPSTREAM_TIMEOUT, settle_delayed
from tests.llm.invoice import PDF, SCHEMA, expected_answer

pytestmark = pytest.mark.proxy

MODELS = {
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-sonnet-4-6",
}
PROVIDERS = sorted(MODELS)


@pytest.fixture
def gateway(litellm_proxy, simulator, settings):
    settings.LITELLM_BASE_URL = litellm_proxy.url
    settings.LITELLM_API_KEY = litellm_proxy.key
    settings.LLM_SECRETS_ID = ""
    reset_gateways()
    gateway = get_gateway("proxy", "any")
    assert isinstance(gateway, LiteLLMProxy)
    yield gateway
    reset_gateways()


def request_for(model, remote=None, **kwargs) -> GenerationRequest:
    return GenerationRequest(
        model=model,
        instructions="Extract the invoice fields as JSON.",
        schema=SCHEMA,
        schema_name="invoice",
        file=remote,
        path=PDF,
        filename=PDF.name,
        **kwargs,
    )


def upstream_generates(simulator, provider: str) -> int:
    return len(simulator.requests(provider=provider, operation="generate"))


def test_health_reports_the_ready_proxy(gateway):
    ok, detail = gateway.health()
    assert ok, detail


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upload_generate_by_file_id_delete(gateway, simulator, provider):
    model = MODELS[provider]

    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    assert remote.bytes == PDF.stat().st_size
    assert len(remote.id) <= 255
    assert (remote.expires_at is not None) == (provider == "gemini")

    generation = gateway.generate(request_for(model, remote))
    assert validate_generation(generation, SCHEMA) == expected_answer(SCHEMA)
    assert generation.simulated is True
    assert generation.usage.input_tokens > 0
    assert generation.usage.output_tokens > 0
    assert generation.cost_usd is not None and generation.cost_usd > Decimal(0)
    assert generation.request_ids.get("x-litellm-call-id")
    assert upstream_generates(simulator, provider) == 1

    gateway.delete(remote.id, model=model)
    assert len(simulator.requests(provider=provider, operation="delete")) == 1
    gateway.delete(remote.id, model=model)  # already gone: not an error

    with pytest.raises(FileGone):
        gateway.generate(request_for(model, remote))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_inline_transport(gateway, simulator, provider):
    generation = gateway.generate(request_for(MODELS[provider], transport="inline"))
    assert json.loads(generation.text) == expected_answer(SCHEMA)
    assert simulator.requests(provider=provider, operation="upload") == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rate_limit_is_retryable_with_the_wait(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    wait = {"retry_delay": "3s"} if provider == "gemini" else {"retry_after": 3}
    simulator.fault(provider=provider, operation="generate", status=429, **wait)

    with pytest.raises(RetryableError) as caught:
        gateway.generate(request_for(model, remote))

    assert not isinstance(caught.value, QuotaExceeded)
    assert caught.value.http_status == 429
    assert caught.value.retry_after == pytest.approx(3)
    assert json.loads(gateway.generate(request_for(model, remote)).text) == expected_answer(SCHEMA)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_quota_refusal_is_not_retried(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.fault(provider=provider, operation="generate", status=429, quota=True)

    with pytest.raises(QuotaExceeded):
        gateway.generate(request_for(model, remote))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_errors_are_retryable(gateway, simulator, provider, status):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.fault(provider=provider, operation="generate", status=status)

    with pytest.raises(RetryableError) as caught:
        gateway.generate(request_for(model, remote))
    assert caught.value.http_status >= 500


@pytest.mark.parametrize("provider", PROVIDERS)
def test_upstream_timeout_is_a_retryable_408(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.fault("delay", provider=provider, operation="generate", delay=UPSTREAM_TIMEOUT + 3)

    with pytest.raises(RetryableError) as caught:
        gateway.generate(request_for(model, remote))
    assert caught.value.http_status == 408
    settle_delayed(simulator, provider, 1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_dropped_upstream_connection_is_retryable(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.fault("drop", provider=provider, operation="generate")

    with pytest.raises(RetryableError):
        gateway.generate(request_for(model, remote))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_expired_file_is_file_gone(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.expire(provider=provider)

    with pytest.raises(FileGone):
        gateway.generate(request_for(model, remote))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_request_is_rejected_without_fallback(gateway, simulator, provider):
    model = MODELS[provider]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    simulator.fault(provider=provider, operation="generate", status=400)

    with pytest.raises(RequestRejected) as caught:
        gateway.generate(request_for(model, remote))
    assert not isinstance(caught.value, QuotaExceeded)


@pytest.mark.parametrize("provider", ["anthropic", "gemini"])
def test_upload_errors_map_too(gateway, simulator, provider):
    simulator.fault(provider=provider, operation="upload", status=503)
    with pytest.raises(RetryableError) as caught:
        gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS[provider])
    assert caught.value.http_status == 503
    assert len(simulator.requests(provider=provider, operation="upload")) == 1


def test_openai_file_calls_are_retried_inside_the_proxy(gateway, simulator):
    """A known limit of litellm 1.108: files routed by `model=` reach OpenAI through the openai
    SDK with its default max_retries=2 (only the deployment's credentials are passed on, so no
    config setting turns it off). One upstream 503 is absorbed; our policy sees a success. If
    this starts failing after a litellm upgrade, the proxy stopped retrying: good news."""
    simulator.fault(provider="openai", operation="upload", status=503, count=1)
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS["openai"])
    assert remote.bytes == PDF.stat().st_size
    statuses = [e["status"] for e in simulator.requests(provider="openai", operation="upload")]
    assert statuses == [503, 200]


def test_unknown_model_means_the_proxy_is_misconfigured(gateway):
    with pytest.raises(RouteUnavailable):
        gateway.generate(request_for("openai/not-in-the-proxy-config", transport="inline"))


def test_wrong_key_means_the_proxy_is_misconfigured(litellm_proxy, simulator):
    gateway = LiteLLMProxy(base_url=litellm_proxy.url, api_key="sk-remorai-wrong-key")
    with pytest.raises(RouteUnavailable):
        gateway.generate(request_for(MODELS["openai"], transport="inline"))
    assert simulator.requests(provider="openai") == []


def test_proxy_down_is_retryable_and_unhealthy(simulator):
    from tests.fixtures.litellm import free_port

    gateway = LiteLLMProxy(base_url=f"http://127.0.0.1:{free_port()}", api_key="sk-x")
    ok, _detail = gateway.health()
    assert not ok
    with pytest.raises(RetryableError):
        gateway.generate(request_for(MODELS["openai"], transport="inline"))
