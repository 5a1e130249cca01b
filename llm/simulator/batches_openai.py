"""OpenAI's Batch API under /openai: POST /v1/batches (an uploaded purpose=batch JSONL file of
{"custom_id","method","url","body"} lines), GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel;
the results are files (output_file_id, error_file_id) read through GET /v1/files/{id}/content.
"""

from __future__ import annotations

import functools
import json

from . import batches, openai
from .calls import Call, live_file, route
from .store import new_id
from .wire import Response, listing

ENDPOINTS = {"/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions"}
MAX_REQUESTS = 50_000
MAX_INPUT_BYTES = 200 * 1024 * 1024
EXPIRY_SECONDS = 24 * 3600


def _error(call: Call, status: int, message: str, param: str | None = None) -> Response:
    return openai.error(call, status, message, param=param)


def status_of(job: batches.Job) -> str:
    if job.extra.get("errors"):
        return "failed"
    if job.state == batches.RUNNING:
        return "in_progress"
    if job.state == batches.CANCELLING:
        return "cancelling"
    if job.cancel_requested_at is not None:
        return "cancelled"
    return "expired" if job.expired else "completed"


def batch_json(job: batches.Job) -> dict:
    status = status_of(job)
    created = int(job.created_at)
    ended = int(job.ended_at) if job.ended_at else None
    counts = job.counts
    return {
        "id": job.id,
        "object": "batch",
        "endpoint": job.extra["endpoint"],
        "model": job.model,
        "errors": job.extra.get("errors"),
        "input_file_id": job.extra["input_file_id"],
        "completion_window": "24h",
        "status": status,
        "output_file_id": job.extra.get("output_file_id"),
        "error_file_id": job.extra.get("error_file_id"),
        "created_at": created,
        "in_progress_at": created if status != "failed" else None,
        "expires_at": created + EXPIRY_SECONDS,
        "finalizing_at": ended if status == "completed" else None,
        "completed_at": ended if status == "completed" else None,
        "failed_at": created if status == "failed" else None,
        "expired_at": ended if status == "expired" else None,
        "cancelling_at": int(job.cancel_requested_at) if job.cancel_requested_at else None,
        "cancelled_at": ended if status == "cancelled" else None,
        "request_counts": {
            "total": job.total,
            "completed": counts.get(batches.SUCCEEDED, 0),
            "failed": counts.get(batches.ERRORED, 0),
        },
        "metadata": job.extra.get("metadata"),
    }


def _lines(path, endpoint: str, errors: list) -> tuple[str, list]:
    """(the model, the (custom_id, body) items) of an input file; problems go to `errors`."""
    model, seen, found = "", set(), []
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                custom_id, body = line["custom_id"], line["body"]
            except (ValueError, KeyError, TypeError):
                errors.append({"code": "invalid_json_line", "line": number, "param": None})
                continue
            if line.get("url") != endpoint or line.get("method") != "POST":
                errors.append({"code": "mismatched_endpoint", "line": number, "param": "url"})
            if custom_id in seen:
                errors.append({"code": "duplicate_custom_id", "line": number, "param": None})
            seen.add(custom_id)
            model = model or body.get("model", "")
            if body.get("model") != model:
                errors.append({"code": "mismatched_model", "line": number, "param": "model"})
            found.append((custom_id, body))
    if len(found) > MAX_REQUESTS:
        errors.append({"code": "too_many_requests", "line": None, "param": None})
    for error in errors:
        error["message"] = error["code"].replace("_", " ").capitalize() + "."
    return model, found


@route("POST", r"/v1/batches", "batch_create")
def create(call: Call) -> Response:
    body = call.json() if isinstance(call.json(), dict) else {}
    absent = [n for n in ("input_file_id", "endpoint", "completion_window") if not body.get(n)]
    if absent:
        return _error(call, 400, f"Missing required parameter: '{absent[0]}'.", param=absent[0])
    if body["endpoint"] not in ENDPOINTS:
        return _error(call, 400, f"Invalid endpoint {body['endpoint']!r}.", param="endpoint")
    if body["completion_window"] != "24h":
        return _error(call, 400, "completion_window must be '24h'.", param="completion_window")
    stored = live_file(call, "openai", body["input_file_id"])
    if stored is None:
        return _error(call, 404, f"No such File object: {body['input_file_id']}", "input_file_id")
    if stored.purpose != "batch":
        return _error(call, 400, "The input file must have purpose 'batch'.", "input_file_id")
    errors: list = []
    if stored.size > MAX_INPUT_BYTES:
        errors.append({"code": "file_too_large", "line": None, "param": None, "message": "Large."})
        model, found = "", []
    else:
        model, found = _lines(stored.path, body["endpoint"], errors)
    job = batches.create(
        call,
        model=model,
        items=iter(found),
        id_prefix="batch_sim",
        endpoint=body["endpoint"],
        input_file_id=stored.id,
        metadata=body.get("metadata"),
        errors={"object": "list", "data": errors} if errors else None,
    )
    if errors:
        job.state, job.ended_at = batches.ENDED, job.created_at
    return Response(200, batch_json(job))


def _finished(call: Call, job: batches.Job) -> batches.Job:
    """Writes the output and error files of an ended job once."""
    if job.state != batches.ENDED or job.results_path is None or "files_written" in job.extra:
        return job
    store = call.sim.store
    out, err = (
        store.create(
            provider="openai",
            id=new_id("file-sim", 22),
            filename=name,
            mime_type="application/jsonl",
            purpose="batch_output",
        )
        for name in ("batch_output.jsonl", "batch_errors.jsonl")
    )
    with store.sink(out) as good, store.sink(err) as bad:
        for result in batches.results(job):
            line = _result_line(result, job.extra["endpoint"])
            sink = good if result["outcome"] == batches.SUCCEEDED else bad
            sink.write((json.dumps(line) + "\n").encode())
    for stored, name in (
        (store.finish(out), "output_file_id"),
        (store.finish(err), "error_file_id"),
    ):
        if stored.size:
            job.extra[name] = stored.id
        else:
            store.delete("openai", stored.id)
    job.extra["files_written"] = True
    return job


def _result_line(result: dict, endpoint: str) -> dict:
    line = {"id": new_id("batch_req_sim", 24), "custom_id": result["key"]}
    if result["status"] is None:
        message = {
            batches.EXPIRED: "This request could not be executed before the completion window "
            "expired.",
            batches.CANCELED: "This request was not executed because the batch was cancelled.",
        }[result["outcome"]]
        code = "batch_expired" if result["outcome"] == batches.EXPIRED else "batch_cancelled"
        return line | {"response": None, "error": {"code": code, "message": message}}
    response = {
        "status_code": result["status"],
        "request_id": new_id("req_sim"),
        "body": result["body"],
    }
    return line | {"response": response, "error": None}


def _missing(call: Call, job_id: str) -> Response:
    return _error(call, 404, f"No batch found with id '{job_id}'.")


job_route = functools.partial(batches.job_route, missing=_missing)


@job_route("GET", r"/v1/batches/(?P<id>[^/]+)", "batch_get")
def retrieve(call: Call, job: batches.Job) -> Response:
    return Response(200, batch_json(_finished(call, job)))


@job_route("POST", r"/v1/batches/(?P<id>[^/]+)/cancel", "batch_cancel")
def cancel(call: Call, job: batches.Job) -> Response:
    if job.state == batches.ENDED:
        return _error(call, 409, f"Cannot cancel a batch with status '{status_of(job)}'.")
    batches.cancel(call, job.id)
    return Response(200, batch_json(job))


@route("GET", r"/v1/batches", "batch_list")
def list_batches(call: Call) -> Response:
    data = [batch_json(_finished(call, job)) for job in batches.listed(call)]
    listed = listing(data, limit=call.query.get("limit"), after=call.query.get("after"))
    return Response(200, {"object": "list", **listed})


ROUTES = [create, list_batches, retrieve, cancel]
