"""Anthropic's Message Batches under /anthropic: POST /v1/messages/batches ({"requests":
[{"custom_id","params"}]}), GET /v1/messages/batches[/{id}], POST …/{id}/cancel, DELETE …/{id},
and GET …/{id}/results — the JSONL of {"custom_id","result":{"type": succeeded|errored|canceled|
expired, …}} that `results_url` (absolute, back to the simulator) points at.
"""

from __future__ import annotations

import functools
import json
import re

from . import anthropic, batches
from .calls import Call, route
from .wire import Response, listing

MAX_REQUESTS = 100_000
MAX_BODY_BYTES = 256 * 1024 * 1024
EXPIRY_SECONDS = 24 * 3600
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
PREFIX = "/v1/messages/batches"


def batch_json(call: Call, job: batches.Job) -> dict:
    status = {batches.RUNNING: "in_progress", batches.CANCELLING: "canceling"}.get(
        job.state, "ended"
    )
    counts = job.counts
    return {
        "id": job.id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            "processing": job.total if status != "ended" else 0,
            "succeeded": counts.get(batches.SUCCEEDED, 0),
            "errored": counts.get(batches.ERRORED, 0),
            "canceled": counts.get(batches.CANCELED, 0),
            "expired": counts.get(batches.EXPIRED, 0),
        },
        "created_at": batches.iso(job.created_at),
        "expires_at": batches.iso(job.created_at + EXPIRY_SECONDS),
        "ended_at": batches.iso(job.ended_at),
        "archived_at": None,
        "cancel_initiated_at": batches.iso(job.cancel_requested_at),
        "results_url": (
            f"{call.base_url}/anthropic{PREFIX}/{job.id}/results" if status == "ended" else None
        ),
    }


def _requests(body, problems: list) -> tuple[str, list]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        problems.append("requests: Field required (a non-empty list)")
        return "", []
    if len(requests) > MAX_REQUESTS:
        problems.append(f"requests: at most {MAX_REQUESTS} requests per batch")
    seen, found, model = set(), [], ""
    for index, request in enumerate(requests):
        custom_id = request.get("custom_id") if isinstance(request, dict) else None
        params = request.get("params") if isinstance(request, dict) else None
        if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
            problems.append(f"requests.{index}.custom_id: String should match {CUSTOM_ID.pattern}")
        elif custom_id in seen:
            problems.append(f"requests.{index}.custom_id: duplicate custom_id {custom_id!r}")
        if not isinstance(params, dict):
            problems.append(f"requests.{index}.params: Field required")
            continue
        for name in ("model", "max_tokens", "messages"):
            if name not in params:
                problems.append(f"requests.{index}.params.{name}: Field required")
        seen.add(custom_id)
        model = model or str(params.get("model", ""))
        found.append((custom_id, params))
    return model, found


@route("POST", PREFIX, "batch_create")
def create(call: Call) -> Response:
    if call.body.remaining > MAX_BODY_BYTES:
        return anthropic.error(call, 413, "Request exceeds the maximum allowed number of bytes.")
    problems: list = []
    model, found = _requests(call.json(), problems)
    if problems:
        return anthropic.error(call, 400, problems[0])
    job = batches.create(call, model=model, items=iter(found), id_prefix="msgbatch_01sim")
    return Response(200, batch_json(call, job))


def _missing(call: Call, job_id: str) -> Response:
    return anthropic.error(call, 404, f"message_batch not found: {job_id}")


job_route = functools.partial(batches.job_route, missing=_missing)


@job_route("GET", PREFIX + r"/(?P<id>[^/]+)", "batch_get")
def retrieve(call: Call, job: batches.Job) -> Response:
    return Response(200, batch_json(call, job))


@job_route("POST", PREFIX + r"/(?P<id>[^/]+)/cancel", "batch_cancel")
def cancel(call: Call, job: batches.Job) -> Response:
    batches.cancel(call, job.id)
    return Response(200, batch_json(call, job))


@job_route("DELETE", PREFIX + r"/(?P<id>[^/]+)", "batch_delete")
def delete(call: Call, job: batches.Job) -> Response:
    if job.state != batches.ENDED:
        return anthropic.error(call, 400, "Batches must be ended (or canceled) to be deleted.")
    batches.delete(call, job.id)
    return Response(200, {"id": job.id, "type": "message_batch_deleted"})


@job_route("GET", PREFIX + r"/(?P<id>[^/]+)/results", "batch_results")
def results(call: Call, job: batches.Job) -> Response:
    if job.state != batches.ENDED:
        return anthropic.error(call, 400, f"Batch {job.id} has not ended yet.")
    return Response(200, stream=_result_lines(job), content_type="application/binary")


def _result_lines(job: batches.Job):
    for result in batches.results(job):
        outcome = result["outcome"]
        if outcome == batches.SUCCEEDED:
            entry = {"type": outcome, "message": result["body"]}
        elif outcome == batches.ERRORED:
            entry = {"type": outcome, "error": result["body"]}
        else:
            entry = {"type": outcome}
        yield (json.dumps({"custom_id": result["key"], "result": entry}) + "\n").encode()


@route("GET", PREFIX, "batch_list")
def list_batches(call: Call) -> Response:
    data = [batch_json(call, job) for job in batches.listed(call)]
    return Response(
        200, listing(data, limit=call.query.get("limit"), after=call.query.get("after_id"))
    )


ROUTES = [create, list_batches, retrieve, cancel, delete, results]
