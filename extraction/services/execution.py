"""Execution of a run: the claim, the lease (heartbeats, cancel), the attempts and the one
terminal write, as the queue task calls it.

Delivery is at least once (django-q2 re-delivers a task whose worker died; the sweeper re-queues
runs whose heartbeat stopped), so execution is idempotent: a run is claimed by ONE conditional
UPDATE (queued -> running with a fresh lease token); a duplicate or late delivery claims nothing
and writes nothing, and every later write of the execution is conditional on its lease token.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from extraction import conf, queue
from extraction.errors import RunErrorCode
from extraction.models import ExtractionAttempt, ExtractionRun
from extraction.services import durable
from extraction.services.files import DocumentFileCache, document_local_path
from extraction.verification.embedded_route import NO_PLAN, embedded_extract, embedded_plan
from extraction.verification.service import run_verification_compute
from extraction.webhooks.outbox import webhook_run_events_record
from llm import errors as llm_errors
from llm.cost import combined_source
from llm.types import Attempt
from remorai.errors import ApplicationError
from remorai.logging import redact

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status


def _llm_extract(**kwargs):
    # One seam for unit tests; the real thing is llm.service.extract.
    from llm.service import extract

    return extract(**kwargs)


class Lease:
    """This execution's hold on a run: heartbeats, and notices cancel or a lost lease."""

    def __init__(self, run_id, token: uuid.UUID):
        self.run_id = run_id
        self.token = token
        self.lost = False
        self.cancel_requested = False
        self._lock = threading.Lock()
        self.attempt: int | None = None  # the attempt count of this claim, once read
        self.held = durable.HeldAttempts(run_id)  # attempt rows the database was away for

    def _mine(self):
        return ExtractionRun.objects.filter(
            pk=self.run_id, lease_token=self.token, status=Status.RUNNING
        )

    def beat(self) -> bool:
        """Record a heartbeat; False when the run should stop (cancelled, or no longer ours)."""
        with self._lock:
            if self.lost:
                return False
            if not self._mine().update(heartbeat_at=timezone.now()):
                self.lost = True
                return False
            if self._mine().filter(cancel_requested=True).exists():
                self.cancel_requested = True
            return not self.cancel_requested

    def should_continue(self) -> bool:
        try:
            return self.beat()
        except durable.DB_UNAVAILABLE:  # cannot tell: go on, the answer will be held
            logger.warning("run %s: heartbeat failed (database unavailable)", self.run_id)
            return True

    def finish(self, **fields) -> bool:
        """Write the outcome (and the held attempt rows) if the run is still ours; False
        (nothing written) otherwise. Retried through a database outage (services.durable)."""

        def outbox():  # a terminal status writes its webhook outbox rows with it (#15)
            webhook_run_events_record(
                run_id=self.run_id,
                status=fields.get("status"),
                needs_review=bool(fields.get("needs_review")),
            )

        with self._lock:
            written = durable.terminal_write(
                run_id=self.run_id,
                token=self.token,
                # taken back while the database was away (unnoticed): still ours if unclaimed
                attempt=None if self.lost else self.attempt,
                fields=fields,
                held=self.held,
                with_write=outbox,
            )
            self.lost = not written
            return written

    @contextmanager
    def heartbeating(self, interval: float):
        """Heartbeat from a thread while one long call blocks the worker."""
        stop = threading.Event()

        def loop():
            try:
                while not stop.wait(interval):
                    try:
                        self.beat()
                    except Exception:  # noqa: BLE001 - a missed beat must not kill the run
                        logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
            finally:
                connection.close()

        thread = threading.Thread(target=loop, name=f"heartbeat-{self.run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=interval + 5)


def _claim(run_id) -> tuple[uuid.UUID, int] | None:
    token = uuid.uuid4()
    now = timezone.now()
    claimed = (
        ExtractionRun.objects.filter(pk=run_id, status=Status.QUEUED)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(
            status=Status.RUNNING,
            lease_token=token,
            attempt_count=F("attempt_count") + 1,
            started_at=now,
            heartbeat_at=now,
            not_before=None,
        )
    )
    return token if claimed else None


def _attempt_row(run_id, attempt: Attempt) -> ExtractionAttempt:
    return ExtractionAttempt(
        run_id=run_id,
        route=attempt.route,
        provider=attempt.provider,
        model=attempt.model,
        operation=attempt.operation,
        started_at=attempt.started_at,
        latency_ms=max(0, int(attempt.latency_ms)),
        outcome=attempt.outcome,
        http_status=attempt.http_status,
        error_code=attempt.error_code[:64],
        provider_code=attempt.provider_code[:128],
        error_message=redact(attempt.error_message or "")[:500],
        input_tokens=attempt.usage.input_tokens,
        output_tokens=attempt.usage.output_tokens,
        document_tokens=attempt.usage.document_tokens,
        cost_usd=attempt.cost_usd,
        request_id=attempt.request_id[:255],
    )


class _AttemptRecorder:
    def __init__(self, run_id, held: durable.HeldAttempts | None = None):
        self.run_id = run_id
        self.recorded: list[Attempt] = []
        self.held = held

    def __call__(self, attempt: Attempt) -> None:
        row = _attempt_row(self.run_id, attempt)
        try:
            row.save()
        except durable.DB_UNAVAILABLE:
            if self.held is None:
                raise
            # Written with the terminal write (its usage and cost must not be lost).
            logger.warning("attempt of run %s held: database unavailable", self.run_id)
            self.held.hold(row)
        except Exception:  # noqa: BLE001 - history must never break the run
            logger.warning("attempt of run %s not recorded", self.run_id, exc_info=True)
        self.recorded.append(attempt)

    def catch_up(self, attempts: Iterable[Attempt]) -> None:
        """Record attempts the LLM layer reported only at the end."""
        for attempt in attempts:
            if attempt not in self.recorded:
                self(attempt)


def _sum(values) -> Any:
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def _usage_fields(attempts: Iterable[Attempt], generation=None) -> dict:
    attempts = list(attempts)
    fields = {
        "input_tokens": _sum(a.usage.input_tokens for a in attempts),
        "output_tokens": _sum(a.usage.output_tokens for a in attempts),
        "document_tokens": _sum(a.usage.document_tokens for a in attempts),
        "cost_usd": _sum(a.cost_usd for a in attempts),
        "cost_source": combined_source(a.cost_source for a in attempts if a.cost_usd is not None),
    }
    if generation is not None:
        for name in ("input_tokens", "output_tokens", "document_tokens"):
            if fields[name] is None:
                fields[name] = getattr(generation.usage, name)
        if fields["cost_usd"] is None:
            fields["cost_usd"] = generation.cost_usd
            priced = generation.cost_usd is not None
            fields["cost_source"] = generation.cost_source if priced else ""
    if fields["cost_usd"] is not None:
        fields["cost_usd"] = Decimal(fields["cost_usd"]).quantize(Decimal("0.000001"))
    return fields


def _route_fields(attempts: Iterable[Attempt]) -> dict:
    """For a run that ends without an answer (failed, cancelled): the model and route of its
    last model call, and whether the provider simulator took part; nothing when none was made."""
    attempts = list(attempts)
    calls = [a for a in attempts if a.operation in ("generate", "repair")]
    fields = {"simulated": any(a.simulated for a in attempts)}
    if calls:
        fields.update(model_used=calls[-1].model, route=calls[-1].route)
    return fields


def _failed(code: str, message: str, provider_code: str = "", **extra) -> dict:
    return {
        "status": Status.FAILED,
        "error_code": RunErrorCode.of(code),
        "error_provider_code": provider_code[:128],
        "error_message": redact(message),
        "finished_at": timezone.now(),
        **extra,
    }


def extraction_run_execute(*, run_id) -> str:
    """Execute a queued run once; returns what happened ("not_claimed", or the new status)."""
    # Through a database outage the claim waits (bounded) instead of consuming the task.
    token = durable.retry_db(lambda: _claim(run_id), what="the claim", run_id=run_id)
    if token is None:
        logger.info("run %s: nothing to claim (duplicate or late delivery)", run_id)
        return "not_claimed"
    lease = Lease(run_id, token)
    run = durable.retry_db(
        lambda: ExtractionRun.objects.select_related("document", "profile").get(pk=run_id),
        what="reading the claimed run",
        run_id=run_id,
    )
    lease.attempt = run.attempt_count
    logger.info("run %s claimed (attempt %d, pid %d)", run_id, run.attempt_count, os.getpid())
    limit = conf.max_attempts()
    if run.attempt_count > limit:
        lease.finish(
            **_failed(
                "too_many_attempts",
                f"Gave up after {limit} attempts that did not finish (worker lost each time).",
            )
        )
        return Status.FAILED
    recorder = _AttemptRecorder(run_id, lease.held)
    started = time.time()  # llm.service.extract takes an epoch deadline
    plan = NO_PLAN
    try:
        with (
            document_local_path(run.document) as path,
            lease.heartbeating(conf.heartbeat_seconds()),
        ):
            # An invoice with an embedded e-invoice is answered from its XML (route "embedded").
            plan = embedded_plan(run=run, path=path)
            extract = embedded_extract(plan) if plan.answer else _llm_extract
            outcome = extract(
                path=path,
                filename=run.document.original_name,
                page_count=run.document.page_count,
                size_bytes=run.document.size_bytes,
                instructions=run.instructions,
                schema=run.schema,
                model=run.requested_model,
                fallback_models=tuple(run.fallback_models),
                transport=run.transport,
                files=DocumentFileCache(run.document, lease=token),
                on_attempt=recorder,
                should_continue=lease.should_continue,
                deadline=started + conf.run_budget_seconds(),
            )
    except llm_errors.RetryLater as exc:
        recorder.catch_up(getattr(exc, "attempts", ()))
        return _retry_later(lease, run, exc)
    except llm_errors.LLMError as exc:
        recorder.catch_up(getattr(exc, "attempts", ()))
        if lease.cancel_requested or _cancel_requested(run_id):
            return _cancelled(lease, recorder)
        extra = {"raw_output": exc.raw_text} if isinstance(exc, llm_errors.BadOutput) else {}
        lease.finish(
            **_failed(
                exc.code, str(exc.detail), exc.provider_code, warnings=plan.warnings, **extra
            ),
            **_usage_fields(recorder.recorded),
            **_route_fields(recorder.recorded),
        )
        logger.info("run %s failed: %s", run_id, exc.code)
        return Status.FAILED
    except ApplicationError as exc:  # from our side of the call (e.g. the file cache)
        lease.finish(
            **_failed(exc.code, str(exc.detail)),
            **_usage_fields(recorder.recorded),
            **_route_fields(recorder.recorded),
        )
        logger.info("run %s failed: %s", run_id, exc.code)
        return Status.FAILED
    except durable.DB_UNAVAILABLE:
        # The database went away before there was an answer to hold: back to the queue.
        return _requeued_after_outage(lease)
    except Exception as exc:
        logger.exception("run %s: unexpected error", run_id)
        lease.finish(**_failed("internal_error", f"{type(exc).__name__}: {exc}"))
        return Status.FAILED
    recorder.catch_up(outcome.attempts)
    if lease.cancel_requested or _cancel_requested(run_id):
        return _cancelled(lease, recorder)
    generation = outcome.generation
    # Evidence may build the document's text layer once (seconds on a long PDF): keep the lease.
    with lease.heartbeating(conf.heartbeat_seconds()):
        verified = run_verification_compute(
            run=run,
            result=outcome.data,
            embedded=None if plan.answer else plan.comparison(outcome.data),
        )
    written = lease.finish(
        **verified.fields(),
        status=Status.SUCCEEDED,
        result=outcome.data,
        raw_output=generation.text or "",
        model_used=outcome.model_used,
        route=outcome.route,
        simulated=bool(generation.simulated),
        warnings=plan.warnings,
        error_code="",
        error_message="",
        error_provider_code="",
        finished_at=timezone.now(),
        **_usage_fields(recorder.recorded, generation),
    )
    if not written:
        logger.warning("run %s: lease lost before the result was written; discarded", run_id)
        return "lease_lost"
    return Status.SUCCEEDED


def _cancel_requested(run_id) -> bool:
    return durable.retry_db(
        lambda: ExtractionRun.objects.filter(pk=run_id, cancel_requested=True).exists(),
        what="the cancel check",
        run_id=run_id,
    )


def _cancelled(lease: Lease, recorder: _AttemptRecorder) -> str:
    lease.finish(
        status=Status.CANCELLED,
        error_code="cancelled",
        error_message="Cancelled while running.",
        finished_at=timezone.now(),
        **_usage_fields(recorder.recorded),
        **_route_fields(recorder.recorded),
    )
    return Status.CANCELLED


def _requeued_after_outage(lease: Lease) -> str:
    logger.warning("run %s: database lost mid-run; queued again", lease.run_id, exc_info=True)
    if lease.finish(status=Status.QUEUED, queued_at=timezone.now()):
        durable.retry_db(
            lambda: queue.enqueue_task(lease.run_id), what="the re-enqueue", run_id=lease.run_id
        )
    return "requeued"


def _retry_later(lease: Lease, run: ExtractionRun, exc) -> str:
    # A deliberate postponement, not a lost worker: it does not use up an attempt.
    at = exc.at
    with transaction.atomic():
        written = lease.finish(
            status=Status.QUEUED,
            not_before=at,
            queued_at=timezone.now(),
            attempt_count=F("attempt_count") - 1,
            error_code=RunErrorCode.RETRY_LATER,
            error_message=redact(str(exc.detail)),
            error_provider_code=exc.provider_code[:128],
        )
        if written:
            queue.schedule_run_later(run.pk, at)
    logger.info("run %s: provider asked to wait; scheduled for %s", run.pk, at.isoformat())
    return "retry_later"
