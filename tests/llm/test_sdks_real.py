"""The official SDKs (openai, anthropic, google-genai), unchanged, against the simulator: upload,
generate with the uploaded file and native structured output, delete — and their error classes
for the simulator's error bodies. If an SDK can talk to the simulator, so can our direct gateways.
"""

from __future__ import annotations

import json
import time

import anthropic
import jsonschema
import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.llm.invoice import INSTRUCTIONS, PDF, expected_answer
from tests.llm.invoice import SCHEMA_WITH_PO as SCHEMA

pytestmark = pytest.mark.sdk


def check_answer(text: str) -> None:
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA)
    assert data == expected_answer(SCHEMA)
    assert data["description"]


def calls(simulator, provider: str, operation: str) -> list[dict]:
    return [
        e for e in simulator.requests() if e["provider"] == provider and e["operation"] == operation
    ]


# --- OpenAI -------------------------------------------------------------------------------------


def test_openai_upload_generate_delete(openai_client, sim):
    with PDF.open("rb") as fh:
        uploaded = openai_client.files.create(file=fh, purpose="user_data")
    assert uploaded.bytes == PDF.stat().st_size
    assert uploaded.filename == PDF.name

    completion = openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": INSTRUCTIONS},
                    {"type": "file", "file": {"file_id": uploaded.id}},
                ],
            }
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "invoice", "schema": SCHEMA, "strict": True},
        },
    )
    check_answer(completion.choices[0].message.content)
    assert completion.usage.prompt_tokens > 0
    assert completion.choices[0].finish_reason == "stop"

    listed = [f.id for f in openai_client.files.list()]
    assert uploaded.id in listed
    assert openai_client.files.retrieve(uploaded.id).id == uploaded.id
    assert openai_client.files.content(uploaded.id).read() == PDF.read_bytes()

    assert openai_client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        openai_client.files.retrieve(uploaded.id)


def test_openai_errors_map_to_sdk_classes(openai_client, sim):
    sim.fault(provider="openai", operation="generate", status=429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as rate:
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert rate.value.response.headers["retry-after"] == "2"

    sim.fault(provider="openai", operation="generate", status=429, quota=True)
    with pytest.raises(openai.RateLimitError) as quota:
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert quota.value.code == "insufficient_quota"

    sim.fault(provider="openai", operation="generate", status=500)
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )


# --- Anthropic ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["ga", "beta"])
def test_anthropic_upload_generate_delete(anthropic_client, sim, api):
    """anthropic 2.x: GA `client.files` / `client.messages` (no beta header), and the beta
    namespace with `betas=["files-api-2025-04-14"]` (what LiteLLM sends, and our gateway)."""
    if api == "ga":
        files, messages, extra = anthropic_client.files, anthropic_client.messages, {}
    else:
        files, messages = anthropic_client.beta.files, anthropic_client.beta.messages
        extra = {"betas": ["files-api-2025-04-14"]}
    with PDF.open("rb") as fh:
        uploaded = files.upload(file=(PDF.name, fh, "application/pdf"), **extra)
    assert uploaded.size_bytes == PDF.stat().st_size
    assert uploaded.mime_type == "application/pdf"

    message = messages.create(
        model="claude-sonnet-4-6",
        max_tokens=1024,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "file", "file_id": uploaded.id}},
                    {"type": "text", "text": INSTRUCTIONS},
                ],
            }
        ],
        output_config={"format": {"type": "json_schema", "schema": SCHEMA}},
        **extra,
    )
    texts = [block.text for block in message.content if block.type == "text"]
    assert len(texts) == 1
    check_answer(texts[0])
    assert message.usage.input_tokens > 0
    assert message.stop_reason == "end_turn"

    assert files.retrieve_metadata(uploaded.id, **extra).id == uploaded.id
    files.delete(uploaded.id, **extra)
    with pytest.raises(anthropic.NotFoundError):
        files.retrieve_metadata(uploaded.id, **extra)


def test_anthropic_errors_map_to_sdk_classes(anthropic_client, sim):
    def ask():
        return anthropic_client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
        )

    sim.fault(provider="anthropic", operation="generate", status=429, retry_after=3)
    with pytest.raises(anthropic.RateLimitError) as rate:
        ask()
    assert rate.value.response.headers["retry-after"] == "3"

    sim.fault(provider="anthropic", operation="generate", status=529)
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        ask()
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


# --- Gemini -------------------------------------------------------------------------------------


def test_gemini_upload_wait_active_generate_delete(genai_client, sim):
    sim.settings(gemini_processing_polls=2)  # the SDK user must wait for ACTIVE
    with PDF.open("rb") as fh:
        uploaded = genai_client.files.upload(
            file=fh,
            config=genai_types.UploadFileConfig(mime_type="application/pdf", display_name=PDF.name),
        )
    assert int(uploaded.size_bytes) == PDF.stat().st_size
    assert uploaded.uri.startswith("https://generativelanguage.googleapis.com/")
    polls = 0
    while uploaded.state != genai_types.FileState.ACTIVE:
        assert uploaded.state == genai_types.FileState.PROCESSING
        polls += 1
        assert polls < 10
        time.sleep(0.05)
        uploaded = genai_client.files.get(name=uploaded.name)
    assert polls >= 1

    response = genai_client.models.generate_content(
        model="gemini-2.5-flash",
        contents=[uploaded, INSTRUCTIONS],
        config=genai_types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=SCHEMA
        ),
    )
    check_answer(response.text)
    assert response.usage_metadata.prompt_token_count > 0
    # PDF pages are billed as DOCUMENT tokens: the usage says so, per modality
    modalities = {d.modality for d in response.usage_metadata.prompt_tokens_details}
    assert genai_types.MediaModality.DOCUMENT in modalities

    genai_client.files.delete(name=uploaded.name)
    with pytest.raises(genai_errors.ClientError) as gone:
        genai_client.files.get(name=uploaded.name)
    assert gone.value.code in (403, 404)


def test_gemini_errors_map_to_sdk_classes(genai_client, sim):
    def ask():
        return genai_client.models.generate_content(model="gemini-2.5-flash", contents="hi")

    sim.fault(provider="gemini", operation="generate", status=429, retry_delay="7s")
    with pytest.raises(genai_errors.ClientError) as rate:
        ask()
    assert rate.value.code == 429
    assert rate.value.status == "RESOURCE_EXHAUSTED"
    details = rate.value.details["error"].get("details", [])
    delays = [d["retryDelay"] for d in details if "retryDelay" in d]
    assert delays == ["7s"]

    sim.fault(provider="gemini", operation="generate", status=503)
    with pytest.raises(genai_errors.ServerError) as unavailable:
        ask()
    assert unavailable.value.code == 503
