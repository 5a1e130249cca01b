"""Execution of a run, as the queue task calls it: claim, call the model (or the embedded
route), verify, and the one terminal write (the lease: services/lease.py; the attempt rows and
usage fields: services/attempts.py).

Delivery is at least once (django-q2 re-delivers a task whose worker died; the sweeper re-queues
runs whose heartbeat stopped), so execution is idempotent: a run is claimed by ONE conditional
UPDATE (queued -> running with a fresh lease token); a duplicate or late delivery claims nothing
and writes nothing, and every later write of the execution is conditional on its lease token.
"""

from __future__ import annotations

import logging
import os
import time

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from extraction import conf, queue
from extraction.errors import RunErrorCode
from extraction.models import ExtractionRun
from extraction.services import durable, segments
from extraction.services.attempts import AttemptRecorder as _AttemptRecorder
from extraction.services.attempts import route_fields as _route_fields
from extraction.services.attempts import usage_fields as _usage_fields
from extraction.services.files import DocumentFileCache, document_local_path
from extraction.services.lease import Lease
from extraction.services.lease import claim as _claim
from extraction.verification.embedded_route import NO_PLAN, embedded_extract, embedded_plan
from extraction.verification.service import run_verification_compute
from llm import errors as llm_errors
from llm.service import extract as llm_extract
from remorai.errors import ApplicationError
from remorai.logging import redact

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status


def _failed(code: str, message: str, provider_code: str = "", **extra) -> dict:
    return {
        "status": Status.FAILED,
        "error_code": RunErrorCode.of(code),
        "error_provider_code": provider_code[:128],
        "error_message": redact(message),
        "finished_at": timezone.now(),
        **extra,
    }


def extraction_run_execute(*, run_id, answer=None, on_written=None) -> str:
    """Execute a queued run once; returns what happened ("not_claimed", or the new status).

    `answer` (llm.service.GivenAnswer): a batched run's answer from its provider batch job — the
    run is claimed from "batched" and the answer stands for the first model call (#16).
    `on_written(fields)` runs in the transaction that writes the run's outcome, if it is written.
    """
    status = Status.QUEUED if answer is None else Status.BATCHED
    # Through a database outage the claim waits (bounded) instead of consuming the task.
    token = durable.retry_db(lambda: _claim(run_id, status=status), what="the claim", run_id=run_id)
    if token is None:
        logger.info("run %s: nothing to claim (duplicate or late delivery)", run_id)
        return "not_claimed"
    lease = Lease(run_id, token)
    lease.with_write = on_written
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
            extract = embedded_extract(plan) if plan.answer else llm_extract
            given = {"answer": answer} if answer is not None and not plan.answer else {}
            if not plan.answer and not given and segments.applies(run):  # long documents (#14)
                extract = segments.extractor(run=run, token=token, extract=llm_extract)
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
                **given,
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
    # A heartbeat first, retried through an outage: the run is ours again (or known lost) as
    # soon as the database is back, before the sweeper can hand it to another worker.
    ours = durable.retry_db(lease.beat, what="the heartbeat", run_id=run_id)
    if not ours and (lease.cancel_requested or _cancel_requested(run_id)):
        return _cancelled(lease, recorder)
    generation = outcome.generation
    run.segments = getattr(outcome, "segments", None)  # a segmented run's item pages (#14)
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
        segments=run.segments,
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
