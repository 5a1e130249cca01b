"""The real LiteLLM proxy (deploy/litellm/config.yaml, from .venv-litellm) in front of the provider
simulator, driven with raw httpx exactly as LITELLM.md describes the wire: upload by model, chat
with the file part and a json_schema response_format, delete, the cost header, and how upstream
errors come back through the proxy. Proves both the simulator's fidelity and our wire assumptions.
"""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

from tests.fixtures.litellm import UPSTREAM_TIMEOUT, settle_delayed
from tests.llm.invoice import INSTRUCTIONS, PDF, expected_answer
from tests.llm.invoice import SCHEMA_WITH_PO as SCHEMA

pytestmark = pytest.mark.proxy

# One model per provider for the full cycle; test_every_configured_model covers the rest.
MODELS = {
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-sonnet-4-6",
}


@pytest.fixture
def proxy(litellm_proxy, simulator):
    simulator.reset()
    with httpx.Client(
        base_url=litellm_proxy.url, headers=litellm_proxy.headers, timeout=UPSTREAM_TIMEOUT * 4
    ) as client:
        yield client


def upload(client: httpx.Client, model: str) -> dict:
    with PDF.open("rb") as fh:
        response = client.post(
            "/v1/files",
            files={"file": (PDF.name, fh, "application/pdf")},
            data={"purpose": "user_data", "model": model},
        )
    assert response.status_code == 200, response.text
    return response.json()


def chat_payload(model: str, file_id: str) -> dict:
    return {
        "model": model,
        "max_tokens": 1024,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": INSTRUCTIONS},
                    {"type": "file", "file": {"file_id": file_id, "format": "application/pdf"}},
                ],
            }
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "invoice", "schema": SCHEMA, "strict": True},
        },
    }


def chat(client: httpx.Client, model: str, file_id: str) -> httpx.Response:
    return client.post("/v1/chat/completions", json=chat_payload(model, file_id))


def provider_calls(simulator, provider: str, operation: str) -> list[dict]:
    return [
        entry
        for entry in simulator.requests()
        if entry["provider"] == provider and entry["operation"] == operation
    ]


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_upload_generate_by_file_id_and_delete(proxy, simulator, provider):
    model = MODELS[provider]

    uploaded = upload(proxy, model)
    file_id = uploaded["id"]
    assert file_id.startswith("file-")
    assert uploaded["bytes"] == PDF.stat().st_size
    assert len(provider_calls(simulator, provider, "upload")) >= 1

    response = chat(proxy, model, file_id)
    assert response.status_code == 200, response.text
    body = response.json()
    data = json.loads(body["choices"][0]["message"]["content"])
    jsonschema.validate(data, SCHEMA)
    assert data == expected_answer(SCHEMA)
    assert data["description"]  # a value read from the document, not only nulls
    assert body["usage"]["prompt_tokens"] > 0
    assert body["usage"]["completion_tokens"] > 0
    cost = float(response.headers["x-litellm-response-cost"])
    assert cost > 0
    assert response.headers.get("x-litellm-attempted-retries", "0") == "0"
    generate_calls = provider_calls(simulator, provider, "generate")
    assert len(generate_calls) == 1, generate_calls  # the proxy made exactly one upstream call

    info = proxy.get(f"/v1/files/{file_id}")
    assert info.status_code == 200, info.text

    deleted = proxy.delete(f"/v1/files/{file_id}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json().get("deleted", True) is True
    assert len(provider_calls(simulator, provider, "delete")) == 1

    gone = proxy.get(f"/v1/files/{file_id}")
    # Gemini answers 403 PERMISSION_DENIED for a file that does not exist (any more).
    assert gone.status_code == (403 if provider == "gemini" else 404), gone.text


# (provider, upstream status) -> what the proxy answers. LiteLLM maps Gemini's real 503 body
# ("The model is overloaded. Please try again later.") to its InternalServerError: 500.
PROXY_STATUS = {("gemini", 503): 500}


@pytest.mark.parametrize("model", sorted(MODELS.values()))
@pytest.mark.parametrize("upstream", [429, 500, 503])
def test_upstream_errors_come_back_with_their_status(proxy, simulator, model, upstream):
    provider = model.split("/", 1)[0]
    file_id = upload(proxy, model)["id"]
    simulator.fault(provider=provider, operation="generate", status=upstream, count=1)
    expected = PROXY_STATUS.get((provider, upstream), upstream)

    response = chat(proxy, model, file_id)

    assert response.status_code == expected, response.text
    error = response.json()["error"]
    assert error["message"]
    assert str(error["code"]) == str(expected)
    # num_retries 0: the proxy made one upstream call, no retry loop of its own
    assert len(provider_calls(simulator, provider, "generate")) == 1


@pytest.mark.parametrize("model", sorted(MODELS.values()))
def test_upstream_past_the_timeout_is_408(proxy, simulator, model):
    provider = model.split("/", 1)[0]
    file_id = upload(proxy, model)["id"]
    simulator.fault(
        kind="delay", provider=provider, operation="generate", delay=UPSTREAM_TIMEOUT + 3
    )

    response = chat(proxy, model, file_id)

    assert response.status_code == 408, response.text
    assert str(response.json()["error"]["code"]) == "408"
    settle_delayed(simulator, provider, 1)


def test_cooldowns_are_off_so_the_next_call_succeeds(proxy, simulator):
    model = MODELS["openai"]
    file_id = upload(proxy, model)["id"]
    simulator.fault(provider="openai", operation="generate", status=429, count=1)
    assert chat(proxy, model, file_id).status_code == 429
    response = chat(proxy, model, file_id)
    assert response.status_code == 200, response.text


def test_every_configured_model_answers_with_schema_valid_json(proxy, simulator, litellm_proxy):
    for model in litellm_proxy.model_names():
        file_id = upload(proxy, model)["id"]
        response = chat(proxy, model, file_id)
        assert response.status_code == 200, (model, response.text)
        data = json.loads(response.json()["choices"][0]["message"]["content"])
        jsonschema.validate(data, SCHEMA)
        assert float(response.headers["x-litellm-response-cost"]) > 0, model
        assert proxy.delete(f"/v1/files/{file_id}").status_code == 200, model


def test_file_ids_are_long_and_route_back_to_their_model(proxy, simulator):
    """Ids encode provider id + model: our remote_id column must hold them (>= 255 chars)."""
    ids = {provider: upload(proxy, model)["id"] for provider, model in MODELS.items()}
    for provider, file_id in ids.items():
        assert 40 < len(file_id) <= 255, (provider, len(file_id))
    assert len(set(ids.values())) == 3


def test_inline_file_data_transport(proxy, simulator):
    import base64

    payload = chat_payload(MODELS["gemini"], "unused")
    data_url = "data:application/pdf;base64," + base64.b64encode(PDF.read_bytes()).decode()
    payload["messages"][0]["content"][1] = {
        "type": "file",
        "file": {"file_data": data_url, "filename": PDF.name},
    }
    response = proxy.post("/v1/chat/completions", json=payload)
    assert response.status_code == 200, response.text
    data = json.loads(response.json()["choices"][0]["message"]["content"])
    assert data == expected_answer(SCHEMA)


def test_auth_and_routing_refusals(litellm_proxy):
    """The answers our policy dispatches on: missing key 401, wrong key 400 no_db_connection,
    unknown model 400 — all from the proxy itself, without an upstream call."""
    with httpx.Client(base_url=litellm_proxy.url, timeout=30) as client:
        payload = {"model": MODELS["openai"], "messages": [{"role": "user", "content": "hi"}]}
        missing = client.post("/v1/chat/completions", json=payload)
        assert missing.status_code == 401, missing.text

        wrong = client.post(
            "/v1/chat/completions",
            json=payload,
            headers={"Authorization": "Bearer sk-not-the-master-key"},
        )
        assert wrong.status_code in (400, 401), wrong.text
        if wrong.status_code == 400:
            assert wrong.json()["error"]["type"] == "no_db_connection"

        unknown = client.post(
            "/v1/chat/completions",
            json={**payload, "model": "openai/no-such-model"},
            headers=litellm_proxy.headers,
        )
        assert unknown.status_code == 400, unknown.text
        assert "model" in unknown.json()["error"]["message"].lower()

        assert client.get("/health/readiness").status_code == 200
