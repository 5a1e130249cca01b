"""OpenAI's Batch API: a purpose=batch JSONL input file of chat completion requests, the job,
and its output and error files (read as streams)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from openai.types.chat import ChatCompletion

import llm.batches as b
from llm.batches.proxy import provider_file_id
from llm.types import Generation

FRAMING = (b"", b"\n", b"\n")  # JSONL
ENDPOINT = "/v1/chat/completions"
STATUSES = {
    "validating": b.RUNNING,
    "in_progress": b.RUNNING,
    "finalizing": b.RUNNING,
    "cancelling": b.CANCELLING,
    "completed": b.ENDED,
    "expired": b.EXPIRED,
    "failed": b.FAILED,
    "cancelled": b.CANCELLED,
}


def line(gateway, item: b.BatchItem) -> dict:
    file_id = item.request.file.id
    if gateway.route == "proxy":  # the proxy does not translate ids inside the file
        file_id = provider_file_id(file_id)
    part = {"type": "file", "file": {"file_id": file_id}}
    return {
        "custom_id": item.key,
        "method": "POST",
        "url": ENDPOINT,
        "body": gateway.chat_params(item.request, part),
    }


def create(gateway, job_input: b.BatchInput, display_name: str) -> b.BatchJob:
    with open(job_input.path, "rb") as handle:  # a handle: the SDK streams it
        uploaded = gateway.client.files.create(
            file=(f"{display_name}.jsonl", handle, "application/jsonl"),
            purpose="batch",
            # the proxy routes the file, then the job, to the model's deployment
            extra_body={"model": job_input.model} if gateway.route == "proxy" else None,
        )
    batch = gateway.client.batches.create(
        input_file_id=uploaded.id,
        endpoint=ENDPOINT,
        completion_window="24h",
        metadata={"name": display_name[:512]},
    )
    return job_input.job(batch.id, uploaded.id)


def state(gateway, job: b.BatchJob) -> b.BatchState:
    batch = gateway.client.batches.retrieve(job.remote_id)
    counts = batch.request_counts
    errors = batch.errors.data if batch.errors and batch.errors.data else []
    return b.BatchState(
        status=STATUSES.get(batch.status, b.RUNNING),
        total=counts.total if counts else 0,
        succeeded=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        detail="; ".join(f"{e.code}: {e.message}" for e in errors[:3]),
    )


def rows(gateway, job: b.BatchJob) -> Iterator[b.Row]:
    batch = gateway.client.batches.retrieve(job.remote_id)
    for file_id in (batch.output_file_id, batch.error_file_id):
        if not file_id:
            continue
        with gateway.client.files.with_streaming_response.content(file_id) as response:
            for raw in response.iter_lines():
                if raw.strip():
                    yield _row(json.loads(raw))


def _row(entry: dict) -> b.Row:
    response = entry.get("response")
    if response:
        return b.Row(entry["custom_id"], int(response["status_code"]), response.get("body"))
    code = ((entry.get("error") or {}).get("code") or "").removeprefix("batch_")
    return b.Row(entry["custom_id"], None, outcome=code or "failed")


def forget(gateway, job: b.BatchJob) -> None:
    batch = gateway.client.batches.retrieve(job.remote_id)
    ids = (job.input_file_id or batch.input_file_id, batch.output_file_id, batch.error_file_id)
    for file_id in dict.fromkeys(filter(None, ids)):
        gateway.client.files.delete(file_id)


def cancel(gateway, job: b.BatchJob) -> None:
    gateway.client.batches.cancel(job.remote_id)


def generation(gateway, body: dict, model: str) -> Generation:
    return gateway.generation_from(ChatCompletion.model_validate(body), {}, model=model)
