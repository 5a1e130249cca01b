"""Anthropic's Message Batches: one JSON body {"requests": [{"custom_id", "params"}]} streamed
from disk, the job, and its results JSONL (read as a stream by the SDK)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from anthropic.types.beta import BetaMessage
from anthropic.types.messages import MessageBatch

import llm.batches as b
from llm.gateways.anthropic import FILES_BETA
from llm.gateways.http import error_from_httpx
from llm.types import Generation

FRAMING = (b'{"requests":[', b",", b"]}")
# An errored item's error type, as the HTTP status the same error has on a normal call.
ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def line(gateway, item: b.BatchItem) -> dict:
    source = {"type": "file", "file_id": item.request.file.id}
    return {"custom_id": item.key, "params": gateway.message_params(item.request, source)}


def create(gateway, job_input: b.BatchInput, display_name: str) -> b.BatchJob:
    client = gateway.client
    headers = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}
    headers |= {"content-type": "application/json", "anthropic-beta": FILES_BETA}

    def body() -> Iterator[bytes]:  # streamed: 10,000 requests are never in memory at once
        with open(job_input.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    response = httpx.post(
        f"{str(client.base_url).rstrip('/')}/v1/messages/batches",
        content=body(),
        headers=headers,
        timeout=gateway.seconds(),
    )
    if response.status_code != 200:
        raise error_from_httpx(response, route=job_input.route, provider="anthropic")
    batch = MessageBatch.model_validate(response.json())
    return job_input.job(batch.id)


def state(gateway, job: b.BatchJob) -> b.BatchState:
    batch = gateway.client.messages.batches.retrieve(job.remote_id)
    counts = batch.request_counts
    total = sum(
        (counts.processing, counts.succeeded, counts.errored, counts.canceled, counts.expired)
    )
    status = {"in_progress": b.RUNNING, "canceling": b.CANCELLING}.get(
        batch.processing_status, b.ENDED
    )
    if status == b.ENDED and counts.succeeded == 0 and total:
        if counts.canceled == total:
            status = b.CANCELLED
        elif counts.expired == total:
            status = b.EXPIRED
    return b.BatchState(
        status=status,
        total=total,
        succeeded=counts.succeeded,
        failed=counts.errored + counts.canceled + counts.expired,
    )


def rows(gateway, job: b.BatchJob) -> Iterator[b.Row]:
    for entry in gateway.client.messages.batches.results(job.remote_id):
        result = entry.result
        if result.type == "succeeded":
            yield b.Row(entry.custom_id, 200, result.message.model_dump(mode="json"))
        elif result.type == "errored":
            error = result.error.model_dump(mode="json")
            status = ERROR_STATUSES.get((error.get("error") or {}).get("type"), 500)
            yield b.Row(entry.custom_id, status, error)
        else:
            yield b.Row(entry.custom_id, None, outcome=result.type)


def forget(gateway, job: b.BatchJob) -> None:
    gateway.client.messages.batches.delete(job.remote_id)  # its results with it (no files)


def cancel(gateway, job: b.BatchJob) -> None:
    gateway.client.messages.batches.cancel(job.remote_id)


def generation(gateway, body: dict, model: str) -> Generation:
    return gateway.generation_from(BetaMessage.model_validate(body), {}, model=model)
