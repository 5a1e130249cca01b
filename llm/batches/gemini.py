"""Gemini batch mode: a JSONL file of {"key", "request"} lines uploaded through the Files API,
the job (an operation "batches/…"), and its responses file (downloaded to disk, read by line)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator

from google.genai import types

import llm.batches as b
from llm.gateways.gemini import FILE_URI_PREFIX
from llm.gateways.sdk import direct_model
from llm.types import Generation

FRAMING = (b"", b"\n", b"\n")  # JSONL
STATES = {
    "JOB_STATE_SUCCEEDED": b.ENDED,
    "JOB_STATE_FAILED": b.FAILED,
    "JOB_STATE_CANCELLED": b.CANCELLED,
    "JOB_STATE_EXPIRED": b.EXPIRED,
}


def line(gateway, item: b.BatchItem) -> dict:
    request = item.request
    document = {
        "fileData": {"fileUri": FILE_URI_PREFIX + request.file.id, "mimeType": request.mime}
    }
    return {"key": item.key, "request": gateway.rest_body(request, document)}


def create(gateway, job_input: b.BatchInput, display_name: str) -> b.BatchJob:
    uploaded = gateway.client.files.upload(
        file=str(job_input.path),
        config=types.UploadFileConfig(mime_type="application/jsonl", display_name=display_name),
    )
    job = gateway.client.batches.create(
        model=direct_model(job_input.model),
        src=uploaded.name,
        config=types.CreateBatchJobConfig(display_name=display_name),
    )
    return job_input.job(job.name, uploaded.name)


def _state_name(job) -> str:
    return str(getattr(job.state, "value", job.state) or "")


def state(gateway, job: b.BatchJob) -> b.BatchState:
    remote = gateway.client.batches.get(name=job.remote_id)
    detail = getattr(remote.error, "message", "") if remote.error else ""
    return b.BatchState(status=STATES.get(_state_name(remote), b.RUNNING), detail=detail or "")


def rows(gateway, job: b.BatchJob) -> Iterator[b.Row]:
    remote = gateway.client.batches.get(name=job.remote_id)
    dest = remote.dest
    if dest is None:
        return
    for index, inlined in enumerate(dest.inlined_responses or ()):
        key = str((inlined.metadata or {}).get("key", index))
        yield _row({"key": key} | inlined.model_dump(mode="json", by_alias=True))
    if dest.file_name:
        handle, name = tempfile.mkstemp(prefix="remorai-batch-", suffix=".out.jsonl")
        os.close(handle)
        try:
            gateway.client.files.download(file=dest.file_name, destination=name)
            with open(name, encoding="utf-8") as fh:
                for raw in fh:
                    if raw.strip():
                        yield _row(json.loads(raw))
        finally:
            os.unlink(name)


def _row(entry: dict) -> b.Row:
    if entry.get("response"):
        return b.Row(str(entry["key"]), 200, entry["response"])
    error = entry.get("error") or {}
    return b.Row(str(entry["key"]), int(error.get("code") or 500), {"error": error})


def forget(gateway, job: b.BatchJob) -> None:
    dest = gateway.client.batches.get(name=job.remote_id).dest
    names = (job.input_file_id, dest.file_name if dest is not None else None)
    for name in dict.fromkeys(filter(None, names)):
        gateway.client.files.delete(name=name)


def cancel(gateway, job: b.BatchJob) -> None:
    gateway.client.batches.cancel(name=job.remote_id)


def generation(gateway, body: dict, model: str) -> Generation:
    response = types.GenerateContentResponse.model_validate(body)
    return gateway.generation_from(response, {}, model=model)
