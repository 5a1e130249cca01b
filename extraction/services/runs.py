"""Extraction runs: enqueue, cancel, retry, and the crash-safe execution the queue task calls.

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
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from extraction import conf
from extraction.models import (
    Document,
    ExtractionAttempt,
    ExtractionProfile,
    ExtractionRun,
    Transport,
    Trigger,
)
from extraction.services.files import DocumentFileCache, document_local_path
from extraction.services.profiles import model_check
from llm import errors as llm_errors
from llm.types import Attempt
from remorai.errors import ApplicationError, Conflict
from remorai.logging import redact

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status
TASK = "extraction.tasks.run_extraction"


class ExtractionInProgress(Conflict):
    code = "extraction_in_progress"
    default_detail = "This document already has a queued or running extraction with this profile."


class ExtractionFinished(Conflict):
    code = "extraction_finished"
    default_detail = "This extraction has already finished."


class InvalidTransport(ApplicationError):
    code = "invalid_transport"
    status_code = 400
    default_detail = 'transport must be "file" or "inline".'


def _llm_extract(**kwargs):
    # One seam for unit tests; the real thing is llm.service.extract.
    from llm.service import extract

    return extract(**kwargs)


_batch = threading.local()


class _CollectingBroker:
    """Takes django-q2's signed packages instead of pushing them one INSERT at a time."""

    def __init__(self, list_key: str):
        self.list_key = list_key
        self.packages: list[str] = []

    def enqueue(self, package: str) -> int:
        self.packages.append(package)
        return len(self.packages)


def enqueue_task(run_id) -> None:
    from django_q.tasks import async_task

    options = {}
    collector = getattr(_batch, "broker", None)
    if collector is not None:
        options["broker"] = collector
    async_task(TASK, str(run_id), task_name=f"extract-{run_id}", **options)


@contextmanager
def enqueue_batch():
    """Tasks enqueued inside are pushed together at the end: with the ORM broker in one
    bulk INSERT (django-q2 packages them as usual: signals, signing). Other brokers, a
    synchronous cluster or an exception inside: tasks go (or fail) as they would one by one;
    after an exception nothing of the batch is pushed (its runs stay queued for the sweeper)."""
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM
    from django_q.conf import Conf

    broker = get_broker()
    if Conf.SYNC or not isinstance(broker, ORM) or getattr(_batch, "broker", None):
        yield
        return
    collector = _CollectingBroker(broker.list_key or Conf.CLUSTER_NAME)
    _batch.broker = collector
    try:
        yield
    finally:
        _batch.broker = None
    if collector.packages:
        from django_q.models import OrmQ

        now = timezone.now()
        broker.get_connection().bulk_create(
            [OrmQ(key=collector.list_key, payload=p, lock=now) for p in collector.packages],
            batch_size=1000,
        )


def _active_run_conflict(*, document: Document, profile: ExtractionProfile) -> Conflict:
    active = ExtractionRun.objects.filter(
        document=document, profile=profile, status__in=ExtractionRun.ACTIVE_STATUSES
    ).first()
    fields = {"active_run_id": str(active.pk)} if active else {}
    return ExtractionInProgress(**fields)


def _fallbacks_for(*, profile: ExtractionProfile, model: str) -> list[str]:
    """The profile's other models, in order, after the one requested."""
    candidates = [profile.default_model, *profile.fallback_models]
    return [m for i, m in enumerate(candidates) if m != model and m not in candidates[:i]]


def extraction_run_enqueue(
    *,
    document: Document,
    profile: ExtractionProfile,
    model: str | None = None,
    transport: str = Transport.FILE,
    trigger: str = Trigger.API,
    requested_by=None,
    redo_of: ExtractionRun | None = None,
    idempotency_key: str = "",
) -> ExtractionRun:
    """Create a queued run with a snapshot of the profile; its task is enqueued on commit.

    Raises ExtractionInProgress (409, with the active run's id) when the document already has a
    queued or running run with this profile, UnknownModel / InvalidTransport for bad input.
    """
    model = model or profile.default_model
    model_check(model=model)
    if transport not in Transport.values:
        raise InvalidTransport()
    now = timezone.now()
    run = ExtractionRun(
        document=document,
        profile=profile,
        profile_version=profile.version,
        instructions=profile.instructions,
        schema=profile.schema,
        requested_model=model,
        fallback_models=_fallbacks_for(profile=profile, model=model),
        transport=transport,
        trigger=trigger,
        requested_by=requested_by,
        redo_of=redo_of,
        idempotency_key=idempotency_key,
        status=Status.QUEUED,
        queued_at=now,
    )
    try:
        with transaction.atomic():
            run.save()
            # The partial unique constraint is the real guard; this is only for the message.
            transaction.on_commit(lambda: enqueue_task(run.pk))
    except IntegrityError:
        raise _active_run_conflict(document=document, profile=profile) from None
    logger.info("extraction run %s queued (%s, %s)", run.pk, profile.slug, model)
    return run


def extraction_run_cancel(*, run: ExtractionRun) -> ExtractionRun:
    """A queued run is cancelled at once; a running one is flagged and stops at its next check."""
    now = timezone.now()
    with transaction.atomic():
        if ExtractionRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            error_code="cancelled",
            error_message="Cancelled before it started.",
        ):
            pass
        elif not ExtractionRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            cancel_requested=True
        ):
            run.refresh_from_db()
            if run.status != Status.CANCELLED:
                raise ExtractionFinished(status=run.status)
    run.refresh_from_db()
    return run


def extraction_run_retry(
    *, run: ExtractionRun, trigger: str = Trigger.API, requested_by=None
) -> ExtractionRun:
    """A new run of the same request (the profile as it is now), with `redo_of` set."""
    run.refresh_from_db(fields=["status"])
    if run.status in ExtractionRun.ACTIVE_STATUSES:
        raise ExtractionInProgress(active_run_id=str(run.pk))
    return extraction_run_enqueue(
        document=run.document,
        profile=run.profile,
        model=run.requested_model,
        transport=run.transport,
        trigger=trigger,
        requested_by=requested_by or run.requested_by,
        redo_of=run,
    )


# --- Execution ------------------------------------------------------------------------------


class Lease:
    """This execution's hold on a run: heartbeats, and notices cancel or a lost lease."""

    def __init__(self, run_id, token: uuid.UUID):
        self.run_id = run_id
        self.token = token
        self.lost = False
        self.cancel_requested = False
        self._lock = threading.Lock()

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
        return self.beat()

    def finish(self, **fields) -> bool:
        """Write the outcome if the run is still ours; False (nothing written) otherwise."""
        with self._lock:
            written = self._mine().update(lease_token=None, heartbeat_at=timezone.now(), **fields)
            self.lost = not written
            return bool(written)

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
        error_message=redact(attempt.error_message or "")[:500],
        input_tokens=attempt.usage.input_tokens,
        output_tokens=attempt.usage.output_tokens,
        document_tokens=attempt.usage.document_tokens,
        cost_usd=attempt.cost_usd,
        request_id=attempt.request_id[:255],
    )


class _AttemptRecorder:
    def __init__(self, run_id):
        self.run_id = run_id
        self.recorded: list[Attempt] = []

    def __call__(self, attempt: Attempt) -> None:
        try:
            _attempt_row(self.run_id, attempt).save()
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
    }
    if generation is not None:
        for name in ("input_tokens", "output_tokens", "document_tokens"):
            if fields[name] is None:
                fields[name] = getattr(generation.usage, name)
        if fields["cost_usd"] is None:
            fields["cost_usd"] = generation.cost_usd
    if fields["cost_usd"] is not None:
        fields["cost_usd"] = Decimal(fields["cost_usd"]).quantize(Decimal("0.000001"))
    return fields


def _schedule_later(run_id, at) -> None:
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"retry-run-{run_id}"[:100],
        func=TASK,
        args=repr(str(run_id)),
        schedule_type=Schedule.ONCE,
        next_run=at,
        repeats=-1,
    )


def _failed(code: str, message: str, **extra) -> dict:
    return {
        "status": Status.FAILED,
        "error_code": code[:64],
        "error_message": redact(message),
        "finished_at": timezone.now(),
        **extra,
    }


def extraction_run_execute(*, run_id) -> str:
    """Execute a queued run once; returns what happened ("not_claimed", or the new status)."""
    token = _claim(run_id)
    if token is None:
        logger.info("run %s: nothing to claim (duplicate or late delivery)", run_id)
        return "not_claimed"
    lease = Lease(run_id, token)
    run = ExtractionRun.objects.select_related("document").get(pk=run_id)
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
    recorder = _AttemptRecorder(run_id)
    started = time.time()  # llm.service.extract takes an epoch deadline
    try:
        with (
            document_local_path(run.document) as path,
            lease.heartbeating(conf.heartbeat_seconds()),
        ):
            outcome = _llm_extract(
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
            **_failed(exc.code, str(exc.detail), **extra), **_usage_fields(recorder.recorded)
        )
        logger.info("run %s failed: %s", run_id, exc.code)
        return Status.FAILED
    except ApplicationError as exc:  # from our side of the call (e.g. the file cache)
        lease.finish(**_failed(exc.code, str(exc.detail)), **_usage_fields(recorder.recorded))
        logger.info("run %s failed: %s", run_id, exc.code)
        return Status.FAILED
    except Exception as exc:
        logger.exception("run %s: unexpected error", run_id)
        lease.finish(**_failed("internal_error", f"{type(exc).__name__}: {exc}"))
        return Status.FAILED
    recorder.catch_up(outcome.attempts)
    if lease.cancel_requested or _cancel_requested(run_id):
        return _cancelled(lease, recorder)
    generation = outcome.generation
    written = lease.finish(
        status=Status.SUCCEEDED,
        result=outcome.data,
        raw_output=generation.text or "",
        model_used=outcome.model_used,
        route=outcome.route,
        simulated=bool(generation.simulated),
        error_code="",
        error_message="",
        finished_at=timezone.now(),
        **_usage_fields(recorder.recorded, generation),
    )
    if not written:
        logger.warning("run %s: lease lost before the result was written; discarded", run_id)
        return "lease_lost"
    return Status.SUCCEEDED


def _cancel_requested(run_id) -> bool:
    return ExtractionRun.objects.filter(pk=run_id, cancel_requested=True).exists()


def _cancelled(lease: Lease, recorder: _AttemptRecorder) -> str:
    lease.finish(
        status=Status.CANCELLED,
        error_code="cancelled",
        error_message="Cancelled while running.",
        finished_at=timezone.now(),
        **_usage_fields(recorder.recorded),
    )
    return Status.CANCELLED


def _retry_later(lease: Lease, run: ExtractionRun, exc) -> str:
    # A deliberate postponement, not a lost worker: it does not use up an attempt.
    at = exc.at
    with transaction.atomic():
        written = lease.finish(
            status=Status.QUEUED,
            not_before=at,
            queued_at=timezone.now(),
            attempt_count=F("attempt_count") - 1,
            error_code="retry_later",
            error_message=redact(str(exc.detail)),
        )
        if written:
            _schedule_later(run.pk, at)
    logger.info("run %s: provider asked to wait; scheduled for %s", run.pk, at.isoformat())
    return "retry_later"


# --- Sweeper --------------------------------------------------------------------------------


def _broker_backlog() -> int:
    try:
        from django_q.brokers import get_broker

        return get_broker().queue_size() or 0
    except Exception:  # noqa: BLE001 - an unknown backlog counts as none
        return 0


def extraction_runs_sweep() -> dict[str, int]:
    """Take back runs whose worker died and re-enqueue queued runs whose task was lost.

    - running, heartbeat older than EXTRACTION_STALE_HEARTBEAT_SECONDS -> queued, re-enqueued
      (its next claim counts against EXTRACTION_MAX_ATTEMPTS);
    - queued (and due) for longer than EXTRACTION_STALE_QUEUED_SECONDS while the broker holds no
      waiting task -> enqueued again. A duplicate task is harmless: it claims nothing.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=conf.stale_heartbeat_seconds())
    requeued = 0
    for run_id, token, cancel in ExtractionRun.objects.filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale),
        status=Status.RUNNING,
    ).values_list("pk", "lease_token", "cancel_requested"):
        mine = ExtractionRun.objects.filter(pk=run_id, status=Status.RUNNING, lease_token=token)
        if cancel:  # its worker died after a cancel was asked for: nothing left to stop
            mine.update(
                status=Status.CANCELLED,
                lease_token=None,
                finished_at=now,
                error_code="cancelled",
                error_message="Cancelled while running (its worker was lost).",
            )
            continue
        with transaction.atomic():
            if mine.update(status=Status.QUEUED, lease_token=None, queued_at=now):
                transaction.on_commit(lambda run_id=run_id: enqueue_task(run_id))
                requeued += 1
                logger.warning("run %s: heartbeat stopped; re-queued", run_id)

    reenqueued = 0
    waited = now - timedelta(seconds=conf.stale_queued_seconds())
    if _broker_backlog() == 0:
        for run_id in ExtractionRun.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lt=waited),
            status=Status.QUEUED,
            queued_at__lt=waited,
        ).values_list("pk", flat=True):
            with transaction.atomic():
                if ExtractionRun.objects.filter(
                    pk=run_id, status=Status.QUEUED, queued_at__lt=waited
                ).update(queued_at=now):
                    transaction.on_commit(lambda run_id=run_id: enqueue_task(run_id))
                    reenqueued += 1
                    logger.warning("run %s: queued with no task; enqueued again", run_id)
    return {"requeued": requeued, "reenqueued": reenqueued}
