"""The policy's fault matrix through the REAL LiteLLM proxy: llm.service.extract with the proxy
route at .venv-litellm's proxy (in front of the simulator) and the direct routes at the simulator,
for all three providers. Complements test_fault_matrix.py, whose "proxy" is the simulator itself:
here every status, header and message the policy sees went through LiteLLM's own mapping."""

from __future__ import annotations

import time

import pytest

from llm import service
from llm.errors import OutputTruncated, QuotaExceeded, RequestRejected
from llm.gateways import reset_gateways
from tests.fixtures.litellm import UPSTREAM_TIMEOUT, settle_delayed
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401
from tests.llm.invoice import PDF, SCHEMA, expected_answer

pytestmark = [pytest.mark.proxy, pytest.mark.usefixtures("llm_settings")]

MODELS = {
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-sonnet-4-6",
}
PROVIDERS = sorted(MODELS)


@pytest.fixture
def routes(llm_settings, litellm_proxy, simulator):  # noqa: F811
    """Proxy route = the real proxy; direct routes = the simulator (for fallbacks)."""
    s = llm_settings
    s.LITELLM_BASE_URL = litellm_proxy.url
    s.LITELLM_API_KEY = litellm_proxy.key
    s.OPENAI_BASE_URL = simulator.openai_base_url
    s.GEMINI_BASE_URL = simulator.gemini_base_url
    s.ANTHROPIC_BASE_URL = simulator.anthropic_base_url
    s.LLM_RETRY_BASE_SECONDS = 0.05
    # ours must outlast the proxy's upstream timeout, so that its 408 reaches the policy
    s.LLM_TIMEOUT_SECONDS = UPSTREAM_TIMEOUT * 3
    reset_gateways()
    yield s
    reset_gateways()


def extract(provider: str, files=None, **kwargs):
    params = {
        "path": PDF,
        "filename": PDF.name,
        "page_count": 1,
        "size_bytes": PDF.stat().st_size,
        "instructions": "Extract the invoice fields.",
        "schema": SCHEMA,
        "model": MODELS[provider],
        "files": files if files is not None else MemoryFileCache(),
    }
    params.update(kwargs)
    return service.extract(**params)


def generates(simulator, provider: str) -> list[dict]:
    return simulator.requests(provider=provider, operation="generate")


def outcomes(attempts, operation="generate", route=None):
    return [
        a.outcome
        for a in attempts
        if a.operation == operation and (route is None or a.route == route)
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_success_through_the_proxy(routes, simulator, provider):
    outcome = extract(provider)
    assert (outcome.route, outcome.provider) == ("proxy", provider)
    assert outcome.data == expected_answer(SCHEMA)
    assert outcome.generation.simulated
    assert outcome.generation.cost_usd > 0
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("upload", "ok"),
        ("generate", "ok"),
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_two_server_errors_then_success_on_the_third_call(routes, simulator, provider):
    simulator.fault(provider=provider, operation="generate", status=500, count=2)
    outcome = extract(provider)
    assert outcome.route == "proxy"
    assert [r["status"] for r in generates(simulator, provider)] == [500, 500, 200]
    assert outcomes(outcome.attempts) == ["retry", "retry", "ok"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_with_a_wait_is_honoured_through_the_proxy(routes, simulator, provider):
    # OpenAI/Anthropic: Retry-After (the proxy forwards it as llm_provider-retry-after);
    # Gemini: retryDelay in the error body (the proxy forwards it inside its message text)
    wait = {"retry_delay": "2s"} if provider == "gemini" else {"retry_after": 2}
    simulator.fault(provider=provider, operation="generate", status=429, **wait)
    outcome = extract(provider)
    assert outcome.route == "proxy"
    first, second = generates(simulator, provider)
    assert (first["status"], second["status"]) == (429, 200)
    assert second["time"] - first["time"] >= 2.0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_quota_429_is_one_call_and_no_fallback(routes, simulator, provider):
    simulator.fault(provider=provider, operation="generate", status=429, quota=True, count=None)
    with pytest.raises(QuotaExceeded):
        extract(provider, fallback_models=["openai/gpt-4o-mini"])
    assert len(generates(simulator, provider)) == 1
    if provider != "openai":
        assert generates(simulator, "openai") == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_400_is_one_call_and_no_fallback(routes, simulator, provider):
    simulator.fault(provider=provider, operation="generate", status=400, count=None)
    with pytest.raises(RequestRejected) as caught:
        extract(provider, fallback_models=["openai/gpt-4o-mini"])
    assert caught.value.http_status == 400
    assert len(generates(simulator, provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_expired_file_is_uploaded_again_once(routes, simulator, provider):
    files = MemoryFileCache()
    extract(provider, files=files)
    assert simulator.expire(provider) >= 1
    outcome = extract(provider, files=files)
    assert outcome.route == "proxy"
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("generate", "file_gone"),
        ("upload", "ok"),
        ("generate", "ok"),
    ]
    assert len(files.gone) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unusable_answer_gets_one_repair_turn_through_the_proxy(routes, simulator, provider):
    simulator.fault("malformed_json", provider=provider, operation="generate")
    outcome = extract(provider)
    assert outcome.repaired and outcome.route == "proxy"
    assert outcome.data == expected_answer(SCHEMA)
    assert [(a.operation, a.outcome) for a in outcome.attempts[-2:]] == [
        ("generate", "invalid_output"),
        ("repair", "ok"),
    ]


def test_upstream_timeout_408_is_retried_then_falls_back_to_direct(routes, simulator):
    routes.LLM_RETRY_ATTEMPTS = 2
    delay = UPSTREAM_TIMEOUT + 2
    simulator.fault("delay", provider="openai", operation="generate", delay=delay, count=2)
    outcome = extract("openai")
    assert (outcome.route, outcome.provider) == ("direct", "openai")
    proxy_generates = [
        a for a in outcome.attempts if (a.route, a.operation) == ("proxy", "generate")
    ]
    assert [(a.outcome, a.http_status) for a in proxy_generates] == [
        ("retry", 408),
        ("fallback", 408),
    ]
    settle_delayed(simulator, "openai", 2)


def test_model_missing_from_the_proxy_config_falls_back_to_direct(routes, simulator):
    routes.LLM_MODELS_JSON = {"openai/gpt-4o-2024-08-06": {"direct_model": "gpt-4o-2024-08-06"}}
    outcome = extract("openai", model="openai/gpt-4o-2024-08-06")
    assert outcome.route == "direct"
    # the upload is the first call: the proxy refuses the unknown model there (400)
    assert outcomes(outcome.attempts, "upload", route="proxy") == ["fallback"]
    assert [r["model"] for r in generates(simulator, "openai")] == ["gpt-4o-2024-08-06"]


def test_wrong_proxy_key_falls_back_to_direct(routes, simulator):
    routes.LITELLM_API_KEY = "sk-remorai-not-the-master-key"
    reset_gateways()
    started = time.monotonic()
    outcome = extract("gemini")
    assert (outcome.route, outcome.provider) == ("direct", "gemini")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_answer_cut_at_the_token_limit_fails_with_output_truncated(routes, simulator, provider):
    """The cap crosses LiteLLM into each provider's own field (max_tokens / maxOutputTokens), the
    simulator cuts the answer, LiteLLM maps each provider's signal to finish_reason "length"."""
    with pytest.raises(OutputTruncated) as caught:
        extract(provider, max_output_tokens=4)
    assert "segments" in caught.value.detail and caught.value.raw_text
    assert outcomes(caught.value.attempts) == ["invalid_output"]  # no repair turn, no fallback
    assert len(generates(simulator, provider)) == 1
