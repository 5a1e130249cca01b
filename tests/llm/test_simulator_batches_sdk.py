"""The official SDKs' batch APIs, unchanged, against the simulator: OpenAI batches over a
purpose=batch JSONL file, Anthropic message batches with their results JSONL, google-genai batches
(inlined requests and a JSONL file). Each item is answered as the same normal call would be; the
simulator's completion delay, partial item failures, expiry and cancellation reach the SDK."""

from __future__ import annotations

import io
import json
import time

import anthropic
import openai
import pytest
from google.genai import types as genai_types

from tests.llm.invoice import INSTRUCTIONS, PDF, expected_answer
from tests.llm.invoice import SCHEMA_WITH_PO as SCHEMA

pytestmark = pytest.mark.sdk


def wait(fetch, done, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


# --- OpenAI -------------------------------------------------------------------------------------


def openai_line(custom_id: str, file_id: str) -> dict:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "gpt-4o",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": INSTRUCTIONS},
                        {"type": "file", "file": {"file_id": file_id}},
                    ],
                }
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "invoice", "schema": SCHEMA, "strict": True},
            },
        },
    }


def openai_batch(client, ids: list[str]):
    with PDF.open("rb") as fh:
        pdf = client.files.create(file=fh, purpose="user_data")
    lines = "".join(json.dumps(openai_line(i, pdf.id)) + "\n" for i in ids)
    uploaded = client.files.create(file=("in.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )


def test_openai_batch_answers_each_item_as_a_chat_completion(openai_client, sim):
    sim.batches(delay=60, fail_ids=["doc-2"], fail_status=400)
    batch = openai_batch(openai_client, ["doc-1", "doc-2", "doc-3"])
    assert batch.status == "in_progress"
    assert openai_client.batches.retrieve(batch.id).status == "in_progress"
    assert batch.id in [b.id for b in openai_client.batches.list(limit=10)]
    sim.batches(delay=0)  # the job ends now

    done = wait(lambda: openai_client.batches.retrieve(batch.id), lambda b: b.completed_at)
    assert done.status == "completed"
    assert (done.request_counts.total, done.request_counts.completed) == (3, 2)
    assert done.request_counts.failed == 1

    output = openai_client.files.content(done.output_file_id).text.splitlines()
    answers = {json.loads(line)["custom_id"]: json.loads(line)["response"] for line in output}
    assert sorted(answers) == ["doc-1", "doc-3"]
    body = answers["doc-1"]["body"]
    assert answers["doc-1"]["status_code"] == 200
    assert json.loads(body["choices"][0]["message"]["content"]) == expected_answer(SCHEMA)
    assert body["usage"]["prompt_tokens"] > 0
    errors = [
        json.loads(x) for x in openai_client.files.content(done.error_file_id).text.splitlines()
    ]
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("doc-2", 400)]


def test_openai_batch_expires_and_cancels(openai_client, sim):
    sim.batches(expire=True)
    expired = openai_batch(openai_client, ["a", "b"])
    expired = openai_client.batches.retrieve(expired.id)
    assert expired.status == "expired"
    assert expired.output_file_id is None
    lines = openai_client.files.content(expired.error_file_id).text.splitlines()
    assert {json.loads(x)["error"]["code"] for x in lines} == {"batch_expired"}

    sim.batches(expire=False, delay=60)
    running = openai_batch(openai_client, ["c"])
    assert openai_client.batches.cancel(running.id).status == "cancelling"
    assert openai_client.batches.retrieve(running.id).status == "cancelled"
    with pytest.raises(openai.ConflictError):
        openai_client.batches.cancel(running.id)


def test_openai_batch_with_mixed_models_fails_validation(openai_client, sim):
    other = openai_line("b", "file-x") | {"body": {"model": "gpt-4o-mini", "messages": []}}
    lines = json.dumps(openai_line("a", "file-x")) + "\n" + json.dumps(other) + "\n"
    uploaded = openai_client.files.create(
        file=("in.jsonl", io.BytesIO(lines.encode())), purpose="batch"
    )
    batch = openai_client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "failed"
    assert batch.errors.data[0].code == "mismatched_model"
    assert batch.errors.data[0].line == 2


# --- Anthropic ----------------------------------------------------------------------------------


def anthropic_request(custom_id: str, file_id: str) -> dict:
    return {
        "custom_id": custom_id,
        "params": {
            "model": "claude-sonnet-4-6",
            "max_tokens": 1024,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "document", "source": {"type": "file", "file_id": file_id}},
                        {"type": "text", "text": INSTRUCTIONS},
                    ],
                }
            ],
            "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
        },
    }


def test_anthropic_message_batch_results(anthropic_client, sim):
    with PDF.open("rb") as fh:
        pdf = anthropic_client.files.upload(file=(PDF.name, fh, "application/pdf"))
    sim.batches(delay=60)
    sim.fault(provider="anthropic", operation="batch_item", status=529)
    batch = anthropic_client.messages.batches.create(
        requests=[anthropic_request(f"doc-{i}", pdf.id) for i in range(3)]
    )
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 3
    assert batch.results_url is None
    sim.batches(delay=0)

    done = wait(
        lambda: anthropic_client.messages.batches.retrieve(batch.id),
        lambda b: b.processing_status == "ended",
    )
    assert (done.request_counts.succeeded, done.request_counts.errored) == (2, 1)
    results = {r.custom_id: r.result for r in anthropic_client.messages.batches.results(batch.id)}
    assert results["doc-0"].type == "errored"
    assert results["doc-0"].error.error.type == "overloaded_error"
    message = results["doc-1"].message
    assert json.loads(message.content[0].text) == expected_answer(SCHEMA)
    assert message.usage.input_tokens > 0
    assert batch.id in [b.id for b in anthropic_client.messages.batches.list()]
    assert anthropic_client.messages.batches.delete(batch.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.batches.retrieve(batch.id)


def test_anthropic_batch_cancel_and_expiry(anthropic_client, sim):
    sim.batches(delay=60)
    batch = anthropic_client.messages.batches.create(
        requests=[anthropic_request("a", "file_x"), anthropic_request("b", "file_x")]
    )
    assert anthropic_client.messages.batches.cancel(batch.id).processing_status == "canceling"
    ended = anthropic_client.messages.batches.retrieve(batch.id)
    assert ended.request_counts.canceled == 2
    assert {r.result.type for r in anthropic_client.messages.batches.results(batch.id)} == {
        "canceled"
    }

    sim.batches(delay=0, expire=True)
    batch = anthropic_client.messages.batches.create(requests=[anthropic_request("c", "file_x")])
    assert anthropic_client.messages.batches.retrieve(batch.id).request_counts.expired == 1
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.batches.create(
            requests=[anthropic_request("same", "f"), anthropic_request("same", "f")]
        )


# --- Gemini -------------------------------------------------------------------------------------


def gemini_request(file) -> dict:
    return {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"file_data": {"file_uri": file.uri, "mime_type": "application/pdf"}},
                    {"text": INSTRUCTIONS},
                ],
            }
        ],
        "generation_config": {
            "response_mime_type": "application/json",
            "response_json_schema": SCHEMA,
        },
    }


def upload_pdf(client):
    with PDF.open("rb") as fh:
        return client.files.upload(
            file=fh, config=genai_types.UploadFileConfig(mime_type="application/pdf")
        )


def test_gemini_batch_inlined_requests(genai_client, sim):
    pdf = upload_pdf(genai_client)
    sim.batches(delay=60, fail_ids=["b"])
    request = gemini_request(pdf)
    job = genai_client.batches.create(
        model="gemini-2.5-flash",
        src=[
            {
                "contents": request["contents"],
                "metadata": {"key": "a"},
                "config": {
                    "response_mime_type": "application/json",
                    "response_json_schema": SCHEMA,
                },
            },
            {"contents": "hi", "metadata": {"key": "b"}},
        ],
        config={"display_name": "reextract"},
    )
    assert job.state == genai_types.JobState.JOB_STATE_RUNNING
    assert job.display_name == "reextract"
    sim.batches(delay=0)
    done = wait(lambda: genai_client.batches.get(name=job.name), lambda j: j.done)
    assert done.state == genai_types.JobState.JOB_STATE_SUCCEEDED
    first, second = done.dest.inlined_responses
    assert json.loads(first.response.text) == expected_answer(SCHEMA)
    assert first.response.usage_metadata.prompt_token_count > 0
    assert second.error is not None
    assert job.name in [j.name for j in genai_client.batches.list()]


def test_gemini_batch_from_a_jsonl_file(genai_client, sim, tmp_path):
    pdf = upload_pdf(genai_client)
    lines = tmp_path / "in.jsonl"
    lines.write_text(
        "".join(json.dumps({"key": k, "request": gemini_request(pdf)}) + "\n" for k in "xy")
    )
    source = genai_client.files.upload(
        file=str(lines), config=genai_types.UploadFileConfig(mime_type="application/jsonl")
    )
    job = genai_client.batches.create(model="gemini-2.5-flash", src=source.name)
    done = genai_client.batches.get(name=job.name)
    assert done.state == genai_types.JobState.JOB_STATE_SUCCEEDED
    data = genai_client.files.download(file=done.dest.file_name)
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert [r["key"] for r in rows] == ["x", "y"]
    text = rows[0]["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == expected_answer(SCHEMA)


def test_gemini_batch_cancel_and_expiry(genai_client, sim):
    sim.batches(delay=60)
    job = genai_client.batches.create(
        model="gemini-2.5-flash", src=[{"contents": "hi", "metadata": {"key": "a"}}]
    )
    genai_client.batches.cancel(name=job.name)
    cancelled = genai_client.batches.get(name=job.name)
    assert cancelled.state == genai_types.JobState.JOB_STATE_CANCELLED
    sim.batches(delay=0, expire=True)
    job = genai_client.batches.create(
        model="gemini-2.5-flash", src=[{"contents": "hi", "metadata": {"key": "a"}}]
    )
    assert genai_client.batches.get(name=job.name).state == genai_types.JobState.JOB_STATE_EXPIRED
    genai_client.batches.delete(name=job.name)
