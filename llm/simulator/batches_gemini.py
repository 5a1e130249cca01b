"""Gemini batch mode under /gemini: POST {v1beta,v1}/models/{m}:batchGenerateContent with
{"batch":{"displayName","inputConfig":{"requests":{"requests":[{"request","metadata":{"key"}}]}}
| {"fileName":"files/…"}}} (a JSONL file of {"key","request"} lines), GET batches[/{id}],
POST batches/{id}:cancel, DELETE batches/{id}. A job is answered as an operation whose metadata
carries the state (BATCH_STATE_*) and the output: inlined responses, or a responses file read
through GET files/{id}:download?alt=media.
"""

from __future__ import annotations

import functools
import json
import time

from . import batches, gemini
from .calls import Call, route
from .store import GEMINI_TTL_SECONDS, new_id
from .wire import Response, page

VERSION = gemini.VERSION + "?"
MAX_INLINE_BYTES = 20 * 1024 * 1024
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"


def state_of(job: batches.Job) -> str:
    if job.state == batches.RUNNING:
        return "BATCH_STATE_RUNNING"
    if job.state == batches.CANCELLING or job.cancel_requested_at is not None:
        return "BATCH_STATE_CANCELLED" if job.state == batches.ENDED else "BATCH_STATE_RUNNING"
    return "BATCH_STATE_EXPIRED" if job.expired else "BATCH_STATE_SUCCEEDED"


def operation_json(call: Call, job: batches.Job) -> dict:
    state = state_of(job)
    counts = job.counts
    metadata = {
        "@type": BATCH_TYPE,
        "name": f"batches/{job.id}",
        "model": f"models/{job.model}",
        "displayName": job.extra.get("display_name", ""),
        "createTime": batches.iso(job.created_at),
        "updateTime": batches.iso(job.ended_at or job.created_at),
        "state": state,
        "batchStats": {
            "requestCount": str(job.total),
            "successfulRequestCount": str(counts.get(batches.SUCCEEDED, 0)),
            "failedRequestCount": str(counts.get(batches.ERRORED, 0)),
            "pendingRequestCount": str(job.processing),
        },
    }
    if job.ended_at is not None:
        metadata["endTime"] = batches.iso(job.ended_at)
    if state == "BATCH_STATE_SUCCEEDED":
        metadata["output"] = _output(call, job)
    body = {"name": f"batches/{job.id}", "metadata": metadata, "done": job.ended_at is not None}
    if "output" in metadata:
        body["response"] = {"@type": BATCH_TYPE + "Output", **metadata["output"]}
    return body


def _entry(result: dict) -> dict:
    if result["outcome"] == batches.SUCCEEDED:
        return {"response": result["body"]}
    error = (result["body"] or {}).get("error") or {
        "code": 400,
        "message": f"Request {result['outcome']}.",
        "status": "CANCELLED",
    }
    return {"error": error}


def _output(call: Call, job: batches.Job) -> dict:
    if not job.extra.get("from_file"):
        inlined = [
            _entry(result) | {"metadata": {"key": result["key"]}} for result in batches.results(job)
        ]
        return {"inlinedResponses": {"inlinedResponses": inlined}}
    if "responses_file" not in job.extra:
        store = call.sim.store
        stored = store.create(
            provider="gemini",
            id=new_id("sim", 9, gemini.ID_ALPHABET),
            filename=f"batch-{job.id}-responses",
            mime_type="application/jsonl",
            expires_at=time.time() + GEMINI_TTL_SECONDS,
        )
        with store.sink(stored) as sink:
            for result in batches.results(job):
                line = {"key": result["key"]} | _entry(result)
                sink.write((json.dumps(line) + "\n").encode())
        store.finish(stored)
        job.extra["responses_file"] = f"files/{stored.id}"
    return {"responsesFile": job.extra["responses_file"]}


def _file_items(path):
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                line = json.loads(raw)
                yield str(line.get("key", number)), line["request"]


@route("POST", VERSION + r"/models/(?P<model>[^/:]+):batchGenerateContent", "batch_create")
def create(call: Call) -> Response:
    if call.body.remaining > MAX_INLINE_BYTES:
        return gemini.error(call, 400, "Request payload size exceeds the limit: 20971520 bytes.")
    batch = (call.json() or {}).get("batch") or {}
    source = batch.get("inputConfig") or batch.get("input_config") or {}
    file_name = source.get("fileName") or source.get("file_name")
    inlined = ((source.get("requests") or {}).get("requests")) or []
    if bool(file_name) == bool(inlined):
        return gemini.error(call, 400, "batch.input_config: exactly one of requests or fileName.")
    if file_name:
        file_id = file_name.rsplit("/", 1)[-1]
        stored = gemini.lookup(call, file_id)
        if stored is None:
            return gemini.gone(call, file_id)
        items = _file_items(stored.path)
    else:
        items = (
            (str((entry.get("metadata") or {}).get("key", index)), entry["request"])
            for index, entry in enumerate(inlined)
        )
    job = batches.create(
        call,
        model=call.params["model"],
        items=items,
        id_prefix="sim",
        display_name=batch.get("displayName") or batch.get("display_name") or "",
        from_file=bool(file_name),
    )
    return Response(200, operation_json(call, job))


def _missing(call: Call, job_id: str) -> Response:
    return gemini.error(call, 404, f"Batch batches/{job_id} not found.")


job_route = functools.partial(batches.job_route, missing=_missing)
JOB = VERSION + r"/batches/(?P<id>[A-Za-z0-9_-]+)"


@job_route("GET", JOB, "batch_get")
def retrieve(call: Call, job: batches.Job) -> Response:
    return Response(200, operation_json(call, job))


@job_route("POST", JOB + ":cancel", "batch_cancel")
def cancel(call: Call, job: batches.Job) -> Response:
    batches.cancel(call, job.id)
    return Response(200, {})


@job_route("DELETE", JOB, "batch_delete")
def delete(call: Call, job: batches.Job) -> Response:
    batches.delete(call, job.id)
    return Response(200, {})


@route("GET", VERSION + r"/batches", "batch_list")
def list_batches(call: Call) -> Response:
    data = [operation_json(call, job) for job in batches.listed(call)]
    data, has_more = page(
        data,
        limit=call.query.get("pageSize"),
        after=call.query.get("pageToken"),
        key=lambda item: item["name"],
    )
    body = {"operations": data}
    if has_more:
        body["nextPageToken"] = data[-1]["name"]
    return Response(200, body)


@route("GET", VERSION + r"/files/(?P<id>[a-z0-9-]+):download", "batch_results")
def download(call: Call) -> Response:
    stored = gemini.lookup(call, call.params["id"])
    if stored is None:
        return gemini.gone(call, call.params["id"])
    return Response(200, file=stored.path, content_type="application/octet-stream")


ROUTES = [create, list_batches, retrieve, cancel, delete, download]
