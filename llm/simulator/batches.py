"""Provider batch jobs, shared by the three wire modules (batches_openai, batches_anthropic,
batches_gemini): a job holds its items on disk (JSONL), ends `delay` seconds after it was created
(configurable through POST /_control/batches), and is then answered item by item by the provider's
own `generate` handler — each item exactly what a normal call would have answered, labelled
simulated the same way. Items fail through the fault book (operation "batch_item": an error kind
answers the provider's error body, malformed_json/schema_violation/truncated reach the answer) or
by custom id (`fail_ids`); `expire` makes every job of the next ends expire instead.

Jobs are processed lazily, on the first read after their end: no thread, deterministic in tests.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from .calls import Call, route
from .store import new_id
from .wire import BadRequest, BodyReader, Response

# Outcomes of one item once its job has ended.
SUCCEEDED, ERRORED, CANCELED, EXPIRED = "succeeded", "errored", "canceled", "expired"
# Job states (each wire module maps them to its provider's names).
RUNNING, CANCELLING, ENDED = "running", "cancelling", "ended"


@dataclass
class BatchConfig:
    delay: float = 0.0  # seconds from creation to the end of a job (read at each look: live)
    expire: bool = False  # jobs end as expired (every item expired) instead of answered
    fail_ids: list[str] = field(default_factory=list)  # items answered with fail_status
    fail_status: int = 500


@dataclass
class Job:
    provider: str
    id: str
    model: str
    items_path: Path  # JSONL of {"key": custom id, "request": the provider's request body}
    total: int
    host: str
    headers: list[tuple[str, str]]
    created_at: float = field(default_factory=time.time)
    state: str = RUNNING
    ended_at: float | None = None
    cancel_requested_at: float | None = None
    expired: bool = False
    results_path: Path | None = None  # JSONL of {"key", "outcome", "status", "body"}
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # wire-specific (endpoint, metadata …)

    @property
    def processing(self) -> int:
        return self.total - sum(self.counts.values())


class BatchBook:
    """The simulator's batch jobs; cleared when the simulator is reset."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = BatchConfig()
        self.jobs: dict[tuple[str, str], Job] = {}
        self.lock = threading.RLock()
        self.epoch = -1

    def configure(self, data: dict) -> BatchConfig:
        for key, value in data.items():
            if key not in BatchConfig.__dataclass_fields__:
                raise ValueError(f"unknown batch setting {key!r}")
            setattr(self.config, key, value)
        return self.config

    def state(self) -> dict:
        return {
            "config": asdict(self.config),
            "jobs": [
                {"provider": j.provider, "id": j.id, "state": j.state, "total": j.total}
                for j in self.jobs.values()
            ],
        }


def book(sim) -> BatchBook:
    """The simulator's batch book (created on first use, emptied by every reset)."""
    with sim.lock:
        batches = getattr(sim, "batches", None)
        if batches is None:
            batches = sim.batches = BatchBook(sim.store.root / "_batches")
        if batches.epoch != sim.epoch:
            batches.jobs.clear()
            batches.config = BatchConfig()
            batches.epoch = sim.epoch
    return batches


def control(sim, method: str, data: dict) -> Response:
    """/_control/batches: GET the settings and jobs; POST {"delay", "expire", "fail_ids",
    "fail_status"}."""
    batches = book(sim)
    if method == "POST":
        batches.configure(data)
    return Response(200, batches.state())


def create(call: Call, *, model: str, items: Iterator[tuple[str, dict]], id_prefix: str, **extra):
    """A new job over `items` ((key, request body) pairs, written to disk as they come)."""
    batches = book(call.sim)
    job_id = new_id(id_prefix, 24)
    path = batches.root / f"{call.provider}-{job_id}.in.jsonl"
    total = 0
    with open(path, "w", encoding="utf-8") as fh:
        for key, request in items:
            fh.write(json.dumps({"key": key, "request": request}) + "\n")
            total += 1
    job = Job(
        provider=call.provider,
        id=job_id,
        model=model,
        items_path=path,
        total=total,
        host=call.host,
        headers=list(call.headers.items()),
        extra=extra,
    )
    with batches.lock:
        batches.jobs[(call.provider, job_id)] = job
    return job


def get(call: Call, job_id: str) -> Job | None:
    batches = book(call.sim)
    with batches.lock:
        job = batches.jobs.get((call.provider, job_id))
    if job is not None:
        advance(call.sim, job)
    return job


def listed(call: Call) -> list[Job]:
    """The provider's jobs, newest first (each brought up to date)."""
    batches = book(call.sim)
    with batches.lock:
        jobs = [j for (p, _), j in batches.jobs.items() if p == call.provider]
    for job in jobs:
        advance(call.sim, job)
    return sorted(jobs, key=lambda j: j.created_at, reverse=True)


def delete(call: Call, job_id: str) -> Job | None:
    batches = book(call.sim)
    with batches.lock:
        job = batches.jobs.pop((call.provider, job_id), None)
    if job is not None:
        job.items_path.unlink(missing_ok=True)
        if job.results_path is not None:
            job.results_path.unlink(missing_ok=True)
    return job


def job_route(method: str, pattern: str, operation: str, *, missing):
    """A route whose handler is called with the job named by the path's `id` (brought up to
    date), or answers `missing(call, id)` when there is no such job."""

    def register(fn):
        def handler(call: Call) -> Response:
            job = get(call, call.params["id"])
            if job is None:
                return missing(call, call.params["id"])
            return fn(call, job)

        return route(method, pattern, operation)(handler)

    return register


def cancel(call: Call, job_id: str) -> Job | None:
    job = get(call, job_id)
    if job is not None and job.state == RUNNING:
        job.state = CANCELLING
        job.cancel_requested_at = time.time()
    return job


def advance(sim, job: Job) -> None:
    """Ends a job whose time has come (or which is being cancelled): every item answered,
    expired or cancelled, the results written to disk once."""
    batches = book(sim)
    with batches.lock:
        if job.state == ENDED:
            return
        if job.state == RUNNING and time.time() < job.created_at + float(batches.config.delay):
            return
        outcome = None
        if job.state == CANCELLING:
            outcome = CANCELED
        elif batches.config.expire:
            outcome, job.expired = EXPIRED, True
        job.results_path = batches.root / f"{job.provider}-{job.id}.out.jsonl"
        counts = dict.fromkeys((SUCCEEDED, ERRORED, CANCELED, EXPIRED), 0)
        with open(job.results_path, "w", encoding="utf-8") as out:
            for key, request in items(job):
                if outcome is None:
                    result = answer_item(sim, job, key, request, batches.config)
                else:
                    result = {"key": key, "outcome": outcome, "status": None, "body": None}
                counts[result["outcome"]] += 1
                out.write(json.dumps(result) + "\n")
        job.counts = counts
        job.state, job.ended_at = ENDED, time.time()


def items(job: Job) -> Iterator[tuple[str, dict]]:
    with open(job.items_path, encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            yield entry["key"], entry["request"]


def results(job: Job) -> Iterator[dict]:
    if job.results_path is None:
        return
    with open(job.results_path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def answer_item(sim, job: Job, key: str, request: dict, config: BatchConfig) -> dict:
    """One item answered by the provider's generate handler, as a normal call would be."""
    module = sim.providers[job.provider]
    handler = next(r.handler for r in module.ROUTES if r.operation == "generate")
    headers = Message()
    for name, value in job.headers:
        headers[name] = value
    call = Call(
        sim=sim,
        method="POST",
        path="",
        query={},
        headers=headers,
        body=BodyReader(io.BytesIO(b""), {}),
        provider=job.provider,
        host=job.host,
        operation="generate",
        params={"model": job.model, "method": "generateContent"},
        model=job.model,
        _json=request,
    )
    fault = sim.faults.take(job.provider, "batch_item", job.model)
    if key in config.fail_ids:
        response = module.error(call, int(config.fail_status), "Simulated batch item failure.")
    elif fault is not None and fault.kind == "error":
        response = module.fault_error(call, fault)
    else:
        call.fault = fault
        try:
            response = handler(call)
        except (BadRequest, AttributeError, TypeError, KeyError, ValueError) as exc:
            response = module.error(call, 400, f"Invalid request body: {exc}")
    status = response.status
    return {
        "key": key,
        "outcome": SUCCEEDED if status == 200 else ERRORED,
        "status": status,
        "body": response.body,
    }


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + (
        f".{int((timestamp % 1) * 1e6):06d}Z"
    )
