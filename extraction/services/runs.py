"""Extraction runs: enqueue, cancel, retry (execution: services/execution.py; the sweeper:
services/sweeper.py; the queue itself: extraction/queue.py)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from extraction import queue
from extraction.errors import (
    ExtractionFinished,
    ExtractionInProgress,
    InvalidSource,
    InvalidTransport,
)
from extraction.models import (
    Document,
    ExtractionProfile,
    ExtractionRun,
    Source,
    Transport,
    Trigger,
)
from extraction.services.profiles import model_check
from extraction.webhooks.outbox import webhook_run_events_record
from remorai.errors import Conflict

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status


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


def run_snapshot(
    *,
    profile: ExtractionProfile,
    model: str | None = None,
    transport: str = Transport.FILE,
    trigger: str = Trigger.API,
    requested_by=None,
    source: str = Source.AUTO,
    batched: bool = False,
) -> dict:
    """The fields of a new queued run of `profile`: the profile as it is now, the model asked for
    (default: the profile's) and its fallbacks. Raises UnknownModel / InvalidTransport.
    `batched`: for a provider batch job (services/batches.py submits it), not the queue."""
    model = model or profile.default_model
    model_check(model=model)
    if transport not in Transport.values:
        raise InvalidTransport()
    if source not in Source.values:
        raise InvalidSource()
    return {
        "profile": profile,
        "profile_version": profile.version,
        "instructions": profile.instructions,
        "schema": profile.schema,
        "segmenting": profile.segmenting or {},
        "requested_model": model,
        "fallback_models": _fallbacks_for(profile=profile, model=model),
        "transport": transport,
        "source": source,
        "trigger": trigger,
        "requested_by": requested_by,
        "status": Status.BATCHED if batched else Status.QUEUED,
    }


def extraction_run_enqueue(
    *,
    document: Document,
    profile: ExtractionProfile,
    model: str | None = None,
    transport: str = Transport.FILE,
    trigger: str = Trigger.API,
    requested_by=None,
    redo_of: ExtractionRun | None = None,
    batched: bool = False,
    source: str = Source.AUTO,
) -> ExtractionRun:
    """Create a queued run with a snapshot of the profile; its task is enqueued on commit.

    Raises ExtractionInProgress (409, with the active run's id) when the document already has a
    queued or running run with this profile, UnknownModel / InvalidTransport for bad input.
    """
    snapshot = run_snapshot(
        profile=profile,
        model=model,
        transport=transport,
        trigger=trigger,
        requested_by=requested_by,
        source=source,
        batched=batched,
    )
    run = ExtractionRun(
        document=document,
        redo_of=redo_of,
        owner_id=document.owner_id,
        queued_at=timezone.now(),
        **snapshot,
    )
    try:
        with transaction.atomic():
            run.save()
            # The partial unique constraint is the real guard; this is only for the message.
            if not batched:
                transaction.on_commit(lambda: queue.enqueue_task(run.pk))
    except IntegrityError:
        raise _active_run_conflict(document=document, profile=profile) from None
    logger.info("extraction run %s queued (%s, %s)", run.pk, profile.slug, run.requested_model)
    return run


def extraction_run_cancel(*, run: ExtractionRun) -> ExtractionRun:
    """A queued run is cancelled at once; a running one is flagged and stops at its next check.
    A run in a provider batch job is cancelled at once too: its answer will be ignored (and a
    batch whose runs are all cancelled is cancelled at the provider by the batch poll)."""
    now = timezone.now()
    with transaction.atomic():
        waiting = (Status.QUEUED, Status.BATCHED)
        if ExtractionRun.objects.filter(pk=run.pk, status__in=waiting).update(
            status=Status.CANCELLED,
            cancel_requested=True,
            finished_at=now,
            error_code="cancelled",
            error_message="Cancelled before it started.",
        ):
            webhook_run_events_record(run_id=run.pk, status=Status.CANCELLED)
            if run.batch_id:
                _batch_due_when_unwaited(run.batch_id, now)
        elif not ExtractionRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            cancel_requested=True
        ):
            run.refresh_from_db()
            if run.status != Status.CANCELLED:
                raise ExtractionFinished(status=run.status)
    run.refresh_from_db()
    return run


def _batch_due_when_unwaited(batch_id, now) -> None:
    """The job's last waiting run was cancelled: its next poll is now (it cancels the job at the
    provider, which stops charging for items it has not answered yet)."""
    from extraction.batches.models import ExtractionBatch

    if not ExtractionRun.objects.filter(batch_id=batch_id, status=Status.BATCHED).exists():
        ExtractionBatch.objects.filter(pk=batch_id, status=ExtractionBatch.Status.RUNNING).update(
            next_poll_at=now
        )


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
        source=run.source,
    )
