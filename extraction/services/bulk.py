"""Bulk re-extraction: new runs for many documents without loading them all.

Candidates are each document's latest run of the profile (one correlated subquery), read as
(run id, document id) pairs with a server-side iterator; new runs are inserted with bulk_create
in batches and their tasks enqueued once each batch is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from extraction import queue
from extraction.models import ExtractionProfile, ExtractionRun, Transport, Trigger
from extraction.services.runs import run_snapshot


@dataclass(frozen=True)
class ReextractFilters:
    from_model: str | None = None
    statuses: Sequence[str] = ()
    document_ids: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class ReextractSummary:
    candidates: int = 0
    created: int = 0
    skipped_active: int = 0
    skipped_conflict: int = 0
    run_ids: list = field(default_factory=list)
    started_at: datetime | None = None
    batches: list = field(default_factory=list)  # the provider batch jobs (provider_batch)


def reextract_candidates(
    *,
    profile: ExtractionProfile,
    filters: ReextractFilters = ReextractFilters(),
    created_before: datetime | None = None,
) -> QuerySet[ExtractionRun]:
    """Selector: each matching document's latest run of `profile` (the run a new one re-does).

    The filters apply to that latest run: its model (requested or used), its status, when it
    was created, its document.
    """
    runs = ExtractionRun.objects.filter(profile=profile)
    latest = runs.filter(document=OuterRef("document")).order_by("-created_at", "-pk")
    selected = runs.filter(pk=Subquery(latest.values("pk")[:1]))
    if filters.from_model:
        selected = selected.filter(
            Q(model_used=filters.from_model) | Q(model_used="", requested_model=filters.from_model)
        )
    if filters.statuses:
        selected = selected.filter(status__in=list(filters.statuses))
    if filters.document_ids:
        selected = selected.filter(document_id__in=list(filters.document_ids))
    if filters.since:
        selected = selected.filter(created_at__gte=filters.since)
    if filters.until:
        selected = selected.filter(created_at__lt=filters.until)
    if created_before:
        # Runs this very re-extraction inserts become their document's latest run: the cut-off
        # keeps them (and so their documents) out of a selection still being read.
        selected = selected.filter(created_at__lt=created_before)
    return selected.order_by("created_at", "pk")


def _enqueue_all(run_ids: list) -> None:
    # One push per batch: with the ORM broker each task was an INSERT and a commit of its own
    # (10,000 re-extractions: 15 s). Should the batch fail, its runs stay queued with no task:
    # the sweeper enqueues them again.
    with transaction.atomic(), queue.enqueue_batch():
        for run_id in run_ids:
            queue.enqueue_task(run_id)


def extraction_runs_reextract(
    *,
    profile: ExtractionProfile,
    model: str | None = None,
    transport: str = Transport.FILE,
    filters: ReextractFilters = ReextractFilters(),
    limit: int | None = None,
    batch_size: int = 500,
    requested_by=None,
    trigger: str = Trigger.COMMAND,
    on_batch: Callable[[int], None] | None = None,
    keep_ids: bool = False,
    provider_batch: bool = False,
) -> ReextractSummary:
    """Queue a new run (trigger `command`, `redo_of` = the latest run) for every candidate.

    `provider_batch`: the new runs are created "batched" and sent as provider batch jobs
    (extraction/services/batches.py) instead of the normal queue: half the price, up to 24 h.

    Documents whose latest run is still queued or running are skipped (and counted), as is any
    that gets an active run between the selection and the insert (the partial unique
    constraint decides; the insert ignores that conflict). `on_batch(n)` is called after each
    batch with the number of candidates it covered (for a progress bar).
    """
    snapshot = _snapshot(profile, model, transport, trigger, requested_by, provider_batch)
    summary = ReextractSummary(started_at=timezone.now())
    candidates = reextract_candidates(
        profile=profile, filters=filters, created_before=summary.started_at
    )
    pairs = candidates.values_list("pk", "document_id", "owner_id", "status")
    if limit is not None:
        pairs = pairs[:limit]
    batch: list[tuple] = []

    def flush():
        if not batch:
            return
        _insert(batch, snapshot, summary, enqueue=not provider_batch, keep_ids=keep_ids)
        if on_batch:
            on_batch(len(batch))
        batch.clear()

    pending_progress = 0
    for run_id, document_id, owner_id, status in pairs.iterator(chunk_size=batch_size):
        summary.candidates += 1
        if status in ExtractionRun.ACTIVE_STATUSES:
            summary.skipped_active += 1
            pending_progress += 1
            continue
        batch.append((run_id, document_id, owner_id))
        if len(batch) >= batch_size:
            flush()
    flush()
    if on_batch and pending_progress:
        on_batch(pending_progress)
    if provider_batch:
        from extraction.services.batches import extraction_batches_submit

        summary.batches = extraction_batches_submit(run_ids=None)
    return summary


def extraction_runs_redo(
    *,
    runs: Iterable[ExtractionRun],
    profile: ExtractionProfile | None = None,
    model: str | None = None,
    transport: str = Transport.FILE,
    requested_by=None,
    trigger: str = Trigger.ADMIN,
    provider_batch: bool = False,
) -> ReextractSummary:
    """A new run re-doing each of `runs` (`redo_of`), with `profile` or else the run's own.

    Inserted and enqueued as extraction_runs_reextract's are; a document that has an active run
    of that profile is skipped (skipped_conflict). With `provider_batch` the new runs wait as
    "batched" and one task submits them as provider batch jobs. Bad input (an unknown model, a
    transport the model cannot take) raises before anything is inserted.
    """
    groups: dict[int, tuple[ExtractionProfile, list]] = {}
    for run in runs:
        chosen = profile or run.profile
        groups.setdefault(chosen.pk, (chosen, []))[1].append(
            (run.pk, run.document_id, run.owner_id)
        )
    snapshots = [
        (_snapshot(chosen, model, transport, trigger, requested_by, provider_batch), rows)
        for chosen, rows in groups.values()
    ]
    summary = ReextractSummary(started_at=timezone.now())
    for snapshot, rows in snapshots:
        summary.candidates += len(rows)
        _insert(rows, snapshot, summary, enqueue=not provider_batch, keep_ids=True)
    if provider_batch and summary.run_ids:
        queue.enqueue_batch_submit(summary.run_ids)
    return summary


def _snapshot(profile, model, transport, trigger, requested_by, provider_batch) -> dict:
    return run_snapshot(
        profile=profile,
        model=model,
        transport=transport,
        trigger=trigger,
        requested_by=requested_by,
        batched=provider_batch,
    )


def _insert(rows: list[tuple], snapshot: dict, summary: ReextractSummary, *, enqueue, keep_ids):
    """Insert a new run per (run id it re-does, document id, owner id); a conflict with an active
    run is skipped. Their tasks are enqueued once committed (`enqueue`)."""
    now = timezone.now()
    new_runs = [
        ExtractionRun(
            document_id=document_id,
            owner_id=owner_id,
            redo_of_id=run_id,
            queued_at=now,
            **snapshot,
        )
        for run_id, document_id, owner_id in rows
    ]
    with transaction.atomic():
        ExtractionRun.objects.bulk_create(new_runs, ignore_conflicts=True)
        wanted = [r.pk for r in new_runs]
        inserted = list(ExtractionRun.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if enqueue:
            transaction.on_commit(lambda ids=inserted: _enqueue_all(ids))
    summary.created += len(inserted)
    summary.skipped_conflict += len(rows) - len(inserted)
    if keep_ids:
        summary.run_ids.extend(inserted)


def reextract_progress(
    *, profile: ExtractionProfile, since: datetime, trigger: str, simulated: bool | None = None
) -> dict:
    """Counts by status of the runs a bulk re-extraction created (for --wait); `simulated`:
    only those the provider simulator answered (True) or not (False)."""
    from django.db.models import Count

    runs = ExtractionRun.objects.filter(
        profile=profile, trigger=trigger, created_at__gte=since, redo_of__isnull=False
    )
    if simulated is not None:
        runs = runs.filter(simulated=simulated)
    rows = runs.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}
