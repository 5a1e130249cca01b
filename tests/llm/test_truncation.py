"""Answers cut at the output token limit (#14 §3), over real HTTP against the simulator, which
honours each provider's cap (OpenAI max_completion_tokens / max_tokens, Anthropic max_tokens,
Gemini generationConfig.maxOutputTokens) and reports its own truncation signal. Whatever the
route, a cut answer is never accepted as complete and no repair turn is spent on it."""

import pytest

from llm import service
from llm.errors import OutputTruncated
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401
from tests.llm.invoice import PDF, SCHEMA, expected_answer

pytestmark = pytest.mark.usefixtures("llm_settings")

MODELS = {
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-haiku-4-5",
}


@pytest.fixture
def routes(settings, direct_to_simulator):
    """Every provider's direct route at the simulator (tests/fixtures/simulator.py)."""
    settings.LLM_TIMEOUT_SECONDS = 10
    return settings


def extract(model, **kwargs):
    return service.extract(
        path=PDF,
        filename=PDF.name,
        page_count=1,
        size_bytes=PDF.stat().st_size,
        instructions="Extract the invoice fields.",
        schema=SCHEMA,
        model=model,
        fallback_models=["openai/gpt-4o-mini"],
        files=MemoryFileCache(),
        **kwargs,
    )


def generations(simulator, provider):
    return [r for r in simulator.requests(provider=provider) if r["operation"] == "generate"]


def assert_cut_without_repair(caught, max_output_tokens):
    error = caught.value
    assert error.code == "output_truncated"
    assert "segments" in error.detail and f"{max_output_tokens} tokens" in error.detail
    assert error.raw_text  # the partial answer is kept
    assert [(a.operation, a.outcome) for a in error.attempts if a.operation != "upload"] == [
        ("generate", "invalid_output")
    ]


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_cut_answer_fails_with_output_truncated_on_each_direct_route(routes, simulator, provider):
    with pytest.raises(OutputTruncated) as caught:
        extract(MODELS[provider], max_output_tokens=4)
    assert_cut_without_repair(caught, 4)
    assert {a.route for a in caught.value.attempts} == {"direct"}
    assert len(generations(simulator, provider)) == 1  # no repair turn, no fallback model
    assert generations(simulator, "openai" if provider != "openai" else "gemini") == []


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_an_answer_within_the_cap_is_accepted(routes, simulator, provider):
    outcome = extract(MODELS[provider], max_output_tokens=4096)
    assert outcome.data == expected_answer(SCHEMA) and not outcome.repaired


def test_a_cut_answer_through_the_proxy_gateway_fails_with_output_truncated(routes, simulator):
    """Our LiteLLM gateway, pointed at the simulator's OpenAI-compatible API (the real proxy's
    mapping of each provider's signal to finish_reason "length" is in the proxy tier)."""
    routes.LITELLM_BASE_URL = simulator.url + "/openai"
    routes.LITELLM_API_KEY = "sk-truncation-proxy-0000"
    routes.OPENAI_API_KEY = ""
    with pytest.raises(OutputTruncated) as caught:
        extract("openai/gpt-4o", max_output_tokens=4)
    assert_cut_without_repair(caught, 4)
    assert {a.route for a in caught.value.attempts} == {"proxy"}
    assert len(generations(simulator, "openai")) == 1
