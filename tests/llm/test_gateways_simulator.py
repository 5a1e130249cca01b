"""Every gateway over real HTTP against the provider simulator: upload, generate by file id with a
schema, inline transport, delete, FileGone on an expired file, waits, quota, timeouts, drops.

LiteLLMProxy runs here against the simulator's OpenAI-shaped API (what the proxy itself speaks);
through the real LiteLLM proxy it runs in test_proxy_real.py.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from llm.errors import (
    FileGone,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RouteUnavailable,
)
from llm.gateways.anthropic import AnthropicDirect
from llm.gateways.gemini import GeminiDirect
from llm.gateways.litellm_proxy import LiteLLMProxy
from llm.gateways.openai import OpenAIDirect
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.llm.invoice import PDF, expected_answer

SCHEMA = {
    "type": "object",
    "properties": {
        "description": {"type": ["string", "null"]},
        "po_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
    "required": ["description", "po_number", "total"],
    "additionalProperties": False,
}

MODELS = {
    "proxy": "openai/gpt-4o",
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-haiku-4-5",
}
SIM_PROVIDER = {"proxy": "openai", "openai": "openai", "gemini": "gemini", "anthropic": "anthropic"}
KINDS = list(MODELS)


def make_gateway(kind: str, simulator, key: str = "sim-test-key", timeout: float = 10):
    if kind == "proxy":
        return LiteLLMProxy(base_url=simulator.url + "/openai", api_key=key, timeout=timeout)
    cls = {"openai": OpenAIDirect, "gemini": GeminiDirect, "anthropic": AnthropicDirect}[kind]
    base = getattr(simulator, f"{kind}_base_url")
    return cls(base_url=base, api_key=key, timeout=timeout)


def ask(kind, remote=None, **kwargs) -> GenerationRequest:
    return GenerationRequest(
        model=MODELS[kind],
        instructions="Extract the fields of this invoice as JSON.",
        schema=SCHEMA,
        file=remote,
        **kwargs,
    )


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def gateway(kind, simulator):
    return make_gateway(kind, simulator)


@pytest.fixture
def uploaded(kind, gateway):
    return gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS[kind])


def test_upload_generate_by_file_id_and_delete(kind, gateway, uploaded, simulator):
    assert uploaded.bytes == PDF.stat().st_size
    if kind == "gemini":
        assert uploaded.id.startswith("files/") and uploaded.expires_at is not None

    generation = gateway.generate(ask(kind, uploaded))

    assert validate_generation(generation, SCHEMA) == expected_answer(SCHEMA)
    assert generation.simulated is True
    assert generation.usage.input_tokens and generation.usage.output_tokens
    assert generation.request_ids
    if kind != "proxy":  # direct: providers send no cost (llm.cost prices it in the policy)
        assert generation.cost_usd is None
    if kind == "gemini":
        assert generation.usage.document_tokens  # the PDF's DOCUMENT-modality tokens

    gateway.delete(uploaded.id, model=MODELS[kind])
    gateway.delete(uploaded.id, model=MODELS[kind])  # already gone: not an error
    with pytest.raises(FileGone):
        gateway.generate(ask(kind, uploaded))


def test_structured_output_is_requested_natively(kind, gateway, uploaded, simulator):
    gateway.generate(ask(kind, uploaded))
    provider = SIM_PROVIDER[kind]
    body = [e for e in simulator.requests(provider=provider, operation="generate")][-1]["body"]
    if provider == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"] == SCHEMA
        part = body["messages"][0]["content"][0]
        assert part["file"]["file_id"] == uploaded.id
        if kind == "proxy":
            assert part["file"]["format"] == "application/pdf"
    elif provider == "gemini":
        config = body["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseJsonSchema"] == SCHEMA
    else:
        assert body["output_config"]["format"] == {"type": "json_schema", "schema": SCHEMA}
        assert body["messages"][0]["content"][0]["source"] == {
            "type": "file",
            "file_id": uploaded.id,
        }


def test_inline_transport_sends_the_document_in_the_request(kind, gateway, simulator):
    generation = gateway.generate(ask(kind, transport="inline", path=PDF, filename=PDF.name))
    assert json.loads(generation.text) == expected_answer(SCHEMA)
    assert simulator.requests(provider=SIM_PROVIDER[kind], operation="upload") == []
    generate = simulator.requests(provider=SIM_PROVIDER[kind], operation="generate")[-1]
    assert generate["bytes_in"] > PDF.stat().st_size  # base64 of the whole PDF went along


def test_expired_file_is_file_gone(kind, gateway, uploaded, simulator):
    assert simulator.expire(SIM_PROVIDER[kind]) >= 1
    with pytest.raises(FileGone) as info:
        gateway.generate(ask(kind, uploaded))
    assert info.value.http_status == (403 if kind == "gemini" else 404)


def test_rate_limit_carries_the_wait(kind, gateway, uploaded, simulator):
    provider = SIM_PROVIDER[kind]
    if provider == "gemini":
        simulator.fault(provider=provider, operation="generate", status=429, retry_delay="17s")
        expected = 17.0
    else:
        simulator.fault(provider=provider, operation="generate", status=429, retry_after=2)
        expected = 2.0
    with pytest.raises(RetryableError) as info:
        gateway.generate(ask(kind, uploaded))
    assert info.value.http_status == 429
    assert info.value.retry_after == expected
    # one call per method
    assert json.loads(gateway.generate(ask(kind, uploaded)).text) == expected_answer(SCHEMA)


def test_quota_refusal_is_not_retryable(kind, gateway, uploaded, simulator):
    simulator.fault(provider=SIM_PROVIDER[kind], operation="generate", status=429, quota=True)
    with pytest.raises(QuotaExceeded):
        gateway.generate(ask(kind, uploaded))


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(kind, gateway, uploaded, simulator, status):
    simulator.fault(provider=SIM_PROVIDER[kind], operation="generate", status=status)
    with pytest.raises(RetryableError) as info:
        gateway.generate(ask(kind, uploaded))
    assert info.value.http_status == status


def test_bad_request_is_rejected(kind, gateway, uploaded, simulator):
    simulator.fault(provider=SIM_PROVIDER[kind], operation="generate", status=400)
    with pytest.raises(RequestRejected) as info:
        gateway.generate(ask(kind, uploaded))
    assert not isinstance(info.value, QuotaExceeded)


def test_wrong_key_makes_the_route_unavailable(kind, simulator):
    simulator.settings(keys={SIM_PROVIDER[kind]: "the-right-key"})
    gateway = make_gateway(kind, simulator, key="a-wrong-key")
    with pytest.raises(RouteUnavailable):
        gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS[kind])


def test_timeout_and_dropped_connection_are_retryable(kind, simulator):
    gateway = make_gateway(kind, simulator, timeout=0.5)
    provider = SIM_PROVIDER[kind]
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS[kind])
    simulator.fault("delay", provider=provider, operation="generate", delay=2)
    with pytest.raises(RetryableError) as slow:
        gateway.generate(ask(kind, remote))
    assert slow.value.reason == "timeout"
    simulator.fault("drop", provider=provider, operation="generate")
    with pytest.raises(RetryableError) as dropped:
        gateway.generate(ask(kind, remote))
    assert dropped.value.reason in ("connection_error", "timeout")
    assert dropped.value.http_status is None


@pytest.mark.parametrize("kind", ["openai", "gemini", "anthropic"])
def test_direct_health_lists_models(kind, simulator):
    ok, detail = make_gateway(kind, simulator).health()
    assert ok, detail
    assert simulator.requests(provider=kind, operation="models")


@pytest.mark.parametrize("kind", ["openai", "gemini", "anthropic"])
def test_direct_health_reports_a_refused_key(kind, simulator):
    simulator.settings(keys={kind: "the-right-key"})
    ok, detail = make_gateway(kind, simulator, key="a-wrong-key").health()
    assert not ok and "key" in detail


def test_gemini_upload_waits_until_active(simulator, monkeypatch):
    monkeypatch.setattr("llm.gateways.gemini.ACTIVE_POLL_INTERVALS", (0.01,))
    simulator.settings(gemini_processing_polls=2)
    gateway = make_gateway("gemini", simulator)
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS["gemini"])
    gets = simulator.requests(provider="gemini", operation="get")
    assert len(gets) == 3  # two answered PROCESSING, the third ACTIVE
    assert remote.id.startswith("files/")
    assert json.loads(gateway.generate(ask("gemini", remote)).text) == expected_answer(SCHEMA)


def test_gemini_file_that_never_turns_active_is_retryable(simulator, monkeypatch):
    monkeypatch.setattr("llm.gateways.gemini.ACTIVE_POLL_INTERVALS", (0.01,))
    monkeypatch.setattr("llm.gateways.gemini.ACTIVE_WAIT_SECONDS", 0.2)
    simulator.settings(gemini_processing_polls=10_000)
    gateway = make_gateway("gemini", simulator)
    with pytest.raises(RetryableError) as info:
        gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS["gemini"])
    assert info.value.reason == "file_not_active"


def test_direct_gateways_make_one_call_per_method(simulator):
    """The SDKs' own retries are off: a 503 is seen once, not retried behind our back."""
    for kind in ("openai", "gemini", "anthropic"):
        simulator.reset()
        gateway = make_gateway(kind, simulator)
        simulator.fault(provider=kind, operation="upload", status=503, count=None)
        with pytest.raises(RetryableError):
            gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS[kind])
        assert len(simulator.requests(provider=kind, operation="upload")) == 1, kind


@pytest.mark.parametrize("kind", ["openai", "gemini", "anthropic"])
def test_direct_upload_streams_from_an_open_handle(kind, simulator, tmp_path):
    """The SDKs get an open file, never the path (some read a path whole): memory stays bounded
    by their chunk size (google-genai: 8 MB per resumable chunk), not by the file."""
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    gateway = make_gateway(kind, simulator, timeout=60)
    tracemalloc.start()
    try:
        remote = gateway.upload(big, "big.pdf", "application/pdf", model=MODELS[kind])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert remote.bytes == 64 * 1024 * 1024
    assert peak < 32 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_anthropic_sends_the_files_beta_only_with_a_file(simulator):
    gateway = make_gateway("anthropic", simulator)
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=MODELS["anthropic"])
    gateway.generate(ask("anthropic", remote))
    gateway.generate(ask("anthropic", transport="inline", path=PDF, filename=PDF.name))
    by_file, inline = simulator.requests(provider="anthropic", operation="generate")
    headers = [{k.lower(): v for k, v in e["headers"].items()} for e in (by_file, inline)]
    assert "files-api-2025-04-14" in headers[0]["anthropic-beta"]
    assert "anthropic-beta" not in headers[1]
