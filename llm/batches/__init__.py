"""Provider batch jobs: many generation requests for one (provider, model) sent as one job,
answered within 24 h at the batch price (the catalog's batch discount).

    for job_input in prepare(provider=..., model=..., items=...):  # JSONL on disk, split by limits
        with job_input:
            job = submit(job_input)        # the input uploaded, the job created at the provider
    state = poll(job)                      # running, ended, expired, failed, cancelled …
    for result in results(job): ...        # streamed: a Generation (batch-priced) or an LLMError
    cancel(job)
    forget(job)                            # once ingested: its files deleted at the provider

Through the official SDKs (direct), or OpenAI's through the LiteLLM proxy (proxy.py). Items
reference their documents by remote file id (the caller uploads them first); nothing here knows
what a document means. The input is written to a temporary file as the items come, never held
whole in memory; so are the keys of a job.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from llm.conf import conf
from llm.cost import model_cost_with_source
from llm.errors import ConfigurationError, LLMError, RequestRejected, RetryableError
from llm.gateways import get_gateway
from llm.gateways.http import error_from_response
from llm.gateways.sdk import mapped_errors
from llm.types import Generation, GenerationRequest

RUNNING, CANCELLING = "running", "cancelling"
ENDED, EXPIRED, FAILED, CANCELLED = "ended", "expired", "failed", "cancelled"
FINISHED = (ENDED, EXPIRED, FAILED, CANCELLED)


@dataclass(frozen=True)
class BatchItem:
    key: str  # the caller's id for the item (≤ 64 characters of [A-Za-z0-9_-])
    request: GenerationRequest  # file transport: request.file is the provider's remote file


@dataclass(frozen=True)
class BatchJob:
    provider: str
    model: str  # the catalog name, "provider/model"
    route: str  # "direct" or "proxy" (OpenAI through the LiteLLM proxy)
    remote_id: str
    input_file_id: str = ""


@dataclass(frozen=True)
class BatchState:
    status: str  # RUNNING, CANCELLING or one of FINISHED
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    detail: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class BatchResult:
    key: str
    generation: Generation | None = None  # with its cost at the batch price
    error: LLMError | None = None  # the item failed, expired or was cancelled in the batch


@dataclass(frozen=True)
class Row:
    """One item's answer as a backend reads it: (key, HTTP status, body), or an outcome."""

    key: str
    status: int | None
    body: object = None
    outcome: str = ""  # when not answered: "expired", "canceled", …


def batch_route(provider: str) -> str:
    """Through the LiteLLM proxy's /v1/batches when the proxy is configured and speaks this
    provider's batch API (OpenAI), else direct."""
    from llm.batches.proxy import PROVIDERS
    from llm.routing import proxy_configured

    return "proxy" if proxy_configured() and provider in PROVIDERS else "direct"


def _gateway(route: str, provider: str):
    if route == "proxy":
        from llm.batches.proxy import PROVIDERS, proxy_batches

        if provider not in PROVIDERS:
            raise ConfigurationError(f"The proxy route has no batch API for {provider!r}.")
        return proxy_batches()
    return get_gateway(route, provider)


def limits(provider: str) -> tuple[int, int]:
    """(requests, bytes) at most per job at `provider`."""
    try:
        limit = conf.LLM_BATCH_LIMITS[provider]
    except KeyError:
        raise ConfigurationError(f"No batch limits for provider {provider!r}.") from None
    return int(limit["requests"]), int(limit["bytes"])


def _backend(provider: str):
    from llm.batches import anthropic, gemini, openai

    backends = {"openai": openai, "anthropic": anthropic, "gemini": gemini}
    if provider not in backends:
        raise ConfigurationError(f"No batch API for provider {provider!r}.")
    return backends[provider]


class BatchInput:
    """One job's input on disk: the body (JSONL, or Anthropic's JSON) and the keys, one a line.
    A context manager: leaving it deletes both files."""

    def __init__(self, provider: str, model: str, route: str):
        self.provider, self.model, self.route = provider, model, route
        self.framing = _backend(provider).FRAMING
        handle, name = tempfile.mkstemp(prefix="remorai-batch-", suffix=".jsonl")
        self.path = Path(name)
        self._body = os.fdopen(handle, "wb")
        handle, name = tempfile.mkstemp(prefix="remorai-batch-", suffix=".keys")
        self.keys_path = Path(name)
        self._keys = os.fdopen(handle, "w", encoding="utf-8")
        self.count = 0
        self.bytes = len(self.framing[0]) + len(self.framing[2])
        self._body.write(self.framing[0])

    def room_for(self, line: bytes, max_requests: int, max_bytes: int) -> bool:
        extra = len(line) + (len(self.framing[1]) if self.count else 0)
        return self.count < max_requests and self.bytes + extra <= max_bytes

    def add(self, key: str, line: bytes) -> None:
        if self.count:
            self._body.write(self.framing[1])
            self.bytes += len(self.framing[1])
        self._body.write(line)
        self._keys.write(key + "\n")
        self.bytes += len(line)
        self.count += 1

    def close_writing(self) -> BatchInput:
        self._body.write(self.framing[2])
        self._body.close()
        self._keys.close()
        return self

    def job(self, remote_id: str, input_file_id: str = "") -> BatchJob:
        """The job created from this input at the provider."""
        return BatchJob(self.provider, self.model, self.route, remote_id, input_file_id)

    def keys(self) -> Iterator[str]:
        with open(self.keys_path, encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")

    def __enter__(self) -> BatchInput:
        return self

    def __exit__(self, *exc) -> None:
        for handle in (self._body, self._keys):
            with contextlib.suppress(OSError):
                handle.close()
        self.path.unlink(missing_ok=True)
        self.keys_path.unlink(missing_ok=True)


def prepare(
    *, provider: str, model: str, items: Iterable[BatchItem], route: str | None = None
) -> Iterator[BatchInput]:
    """The items as job inputs within the provider's limits, each yielded once written (submit
    it before asking for the next: the items are read lazily)."""
    route = route or batch_route(provider)
    backend = _backend(provider)
    gateway = _gateway(route, provider)
    max_requests, max_bytes = limits(provider)
    current: BatchInput | None = None
    try:
        for item in items:
            line = json.dumps(backend.line(gateway, item), separators=(",", ":")).encode()
            if current is not None and not current.room_for(line, max_requests, max_bytes):
                yield current.close_writing()
                current = None
            if current is None:
                current = BatchInput(provider, model, route)
                if not current.room_for(line, max_requests, max_bytes):
                    raise RequestRejected(
                        f"One batch item ({len(line)} bytes) exceeds {provider}'s batch limit.",
                        reason="batch_item_too_large",
                    )
            current.add(item.key, line)
        if current is not None:
            yield current.close_writing()
            current = None
    finally:
        if current is not None:
            current.__exit__(None, None, None)


def submit(job_input: BatchInput, *, display_name: str = "remorai") -> BatchJob:
    """Upload the input (where the provider takes a file) and create the job."""
    gateway = _gateway(job_input.route, job_input.provider)
    with mapped_errors(job_input.provider):
        return _backend(job_input.provider).create(gateway, job_input, display_name)


def poll(job: BatchJob) -> BatchState:
    gateway = _gateway(job.route, job.provider)
    with mapped_errors(job.provider):
        return _backend(job.provider).state(gateway, job)


def cancel(job: BatchJob) -> None:
    gateway = _gateway(job.route, job.provider)
    with mapped_errors(job.provider):
        _backend(job.provider).cancel(gateway, job)


def forget(job: BatchJob) -> None:
    """Delete what a finished job keeps at the provider: its input file and its results (files
    holding the extracted data; an Anthropic job itself). Raises LLMError when one cannot be
    deleted (cleanup_files --orphaned finds a file left so)."""
    gateway = _gateway(job.route, job.provider)
    with mapped_errors(job.provider):
        _backend(job.provider).forget(gateway, job)


def results(job: BatchJob) -> Iterator[BatchResult]:
    """Every answered or failed item of a finished job, streamed from the provider."""
    backend = _backend(job.provider)
    gateway = _gateway(job.route, job.provider)
    with mapped_errors(job.provider):
        for row in backend.rows(gateway, job):
            yield _result(backend, gateway, job, row)


def _result(backend, gateway, job: BatchJob, row: Row) -> BatchResult:
    if row.status == 200:
        generation = backend.generation(gateway, row.body, job.model)
        cost, source = model_cost_with_source(job.model, generation.usage, batch=True)
        return BatchResult(
            row.key, generation=replace(generation, cost_usd=cost, cost_source=source)
        )
    if row.status is None:
        error = RetryableError(
            f"The item was not answered in the batch ({row.outcome or 'no result'}).",
            reason=f"batch_{row.outcome or 'missing'}",
        )
        return BatchResult(row.key, error=error)
    error = error_from_response(
        row.status, {}, row.body, route=job.route, provider=job.provider, file_id=None
    )
    return BatchResult(row.key, error=error)
