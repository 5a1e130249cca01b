"""Collecting provider batch jobs (#16 §2): the schedule polls each open batch with back-off;
a finished job's results are written through the normal execution path, item by item.

Each answered item is executed as its run with the answer given (extraction_run_execute(answer=):
the claim from "batched", validation, the repair turn as a normal call when needed, evidence and
checks, the lease-guarded terminal write, an attempt at the batch price). The claim makes it
idempotent: an ingestion killed half-way is resumed by a later poll, and an item already written
(or whose run was cancelled) claims nothing. Items that failed, and every run still batched once
the results are read (expired, failed or cancelled jobs), go back to the normal queue.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Q
from django.utils import timezone

from extraction import conf
from extraction.batches.models import ExtractionBatch
from extraction.models import ExtractionRun
from extraction.services.batches import extraction_batches_submit, runs_requeue, waiting_runs
from extraction.services.execution import extraction_run_execute
from llm import batches as llm_batches
from llm.cost import model_cost_with_source
from llm.errors import LLMError
from llm.service import GivenAnswer
from remorai.logging import redact

logger = logging.getLogger(__name__)

BatchStatus = ExtractionBatch.Status
# Poll intervals: 30 s, 1, 2, 5, 10 min, then every 15 min (a job takes minutes to 24 h).
BACKOFF_SECONDS = (30, 60, 120, 300, 600, 900)
# A job not collected this long after submission (the providers end every job within 24 h, as
# expired at worst) is given up when its poll fails: its runs go back to the normal queue.
GIVE_UP_AFTER = timedelta(hours=48)
# An ingestion holds its batch this long; a worker killed meanwhile is resumed after it.
INGEST_LEASE = timedelta(minutes=10)
# Batched runs with no job after this long were left by a submission that stopped.
STRANDED_AFTER = timedelta(minutes=10)
FINAL = {
    llm_batches.ENDED: BatchStatus.DONE,
    llm_batches.EXPIRED: BatchStatus.EXPIRED,
    llm_batches.FAILED: BatchStatus.FAILED,
    llm_batches.CANCELLED: BatchStatus.CANCELLED,
}


def next_poll_delay(polls: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(polls, len(BACKOFF_SECONDS) - 1)])


def due_batches():
    """Selector: open batches whose next look is due."""
    now = timezone.now()
    return ExtractionBatch.objects.filter(
        status__in=[BatchStatus.RUNNING, BatchStatus.CANCELLING, BatchStatus.INGESTING]
    ).filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))


def extraction_batches_poll() -> dict:
    """One pass of the schedule: batched runs stranded without a job (a submission that
    stopped half-way) are sent, those of a job never confirmed go back to the normal queue;
    every due batch is looked at. Returns counts for the task log."""
    stranded = waiting_runs().filter(queued_at__lt=timezone.now() - STRANDED_AFTER)
    if stranded.exists():
        # (not waiting for a submission running meanwhile: the next pass sends them)
        extraction_batches_submit(run_ids=stranded.values_list("pk", flat=True), wait=0)
    # A job row its submission never confirmed (the worker died before the provider's answer):
    # nothing will ever poll it, so its runs go back to the normal queue.
    unconfirmed = ExtractionBatch.objects.filter(
        status=BatchStatus.SUBMITTING, created_at__lt=timezone.now() - STRANDED_AFTER
    )
    for batch in unconfirmed:
        _give_up(batch, "the submission stopped before the provider confirmed the job")
    counts = {"polled": 0, "ingested": 0}
    for batch_id in list(due_batches().values_list("pk", flat=True)):
        counts["polled"] += 1
        try:
            if extraction_batch_poll(batch_id=batch_id):
                counts["ingested"] += 1
        except LLMError as exc:
            batch = ExtractionBatch.objects.get(pk=batch_id)
            if exc.http_status == 404 or _overdue(batch):  # the job is gone, or never ends
                _give_up(batch, f"{exc.code}: {redact(str(exc))}")
                continue
            logger.warning("batch %s: poll failed: %s", batch_id, redact(str(exc)))
            _later(batch)  # the provider unreachable now: look again later
    return counts


def _overdue(batch: ExtractionBatch) -> bool:
    started = batch.submitted_at or batch.created_at
    return timezone.now() - started > GIVE_UP_AFTER


def _give_up(batch: ExtractionBatch, reason: str) -> None:
    """The job cannot be collected: its waiting runs go back to the normal queue."""
    logger.warning("batch %s given up (%s); its runs go back to the queue", batch.pk, reason)
    waiting = batch.runs.filter(status=ExtractionRun.Status.BATCHED).values_list("pk", flat=True)
    runs_requeue(run_ids=waiting, batch=batch, reason=reason)
    ExtractionBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED,
        finished_at=timezone.now(),
        next_poll_at=None,
        error_message=reason[:2000],
    )


def _job(batch: ExtractionBatch) -> llm_batches.BatchJob:
    return llm_batches.BatchJob(
        batch.provider, batch.model, batch.route, batch.remote_id, batch.input_file_id
    )


def _later(batch: ExtractionBatch) -> None:
    ExtractionBatch.objects.filter(pk=batch.pk).update(
        poll_count=F("poll_count") + 1,
        next_poll_at=timezone.now() + next_poll_delay(batch.poll_count),
    )


def extraction_batch_poll(*, batch_id) -> bool:
    """Look at one batch: cancel it at the provider when none of its runs waits any more,
    ingest it once finished. True when its results were ingested by this call."""
    batch = ExtractionBatch.objects.get(pk=batch_id)
    waiting = batch.runs.filter(status=ExtractionRun.Status.BATCHED)
    job = _job(batch)
    state = llm_batches.poll(job)
    if not state.finished:
        # Every run was cancelled (or taken back): nothing to wait for. (A job that has ended
        # is not cancelled: the providers refuse that; its answers are ignored.)
        if batch.status == BatchStatus.RUNNING and not waiting.exists():
            llm_batches.cancel(job)
            ExtractionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.CANCELLING)
            logger.info("batch %s: no run waits for it any more; cancelled remotely", batch.pk)
        _later(batch)
        return False
    # One ingestion at a time: the conditional update takes the batch for INGEST_LEASE.
    now = timezone.now()
    taken = ExtractionBatch.objects.filter(pk=batch.pk, next_poll_at=batch.next_poll_at).update(
        status=BatchStatus.INGESTING, next_poll_at=now + INGEST_LEASE
    )
    if not taken:
        return False
    return extraction_batch_ingest(batch=batch, state=state)


def ingest_budget_seconds() -> float:
    """One ingestion pass stops after this long (its task must end before django-q2's timeout
    kills it); the next poll resumes where it stopped (the items written are skipped)."""
    return conf.run_budget_seconds() / 2


def extraction_batch_ingest(*, batch: ExtractionBatch, state: llm_batches.BatchState) -> bool:
    """Write the results of a finished job; once all are read, every run it leaves batched goes
    back to the normal queue and the batch gets its final status. False when the pass ran out
    of time first (the batch stays ingesting, due again at once)."""
    job = _job(batch)
    stop_at = time.monotonic() + ingest_budget_seconds()
    for result in llm_batches.results(job):
        if result.generation is not None:
            worked = _ingest_answer(batch, result.key, result.generation)
        else:
            reason = f"batch item failed: {result.error.code}"
            worked = runs_requeue(run_ids=[result.key], batch=batch, reason=reason)
        if worked and time.monotonic() > stop_at:  # (items done before are skipped quickly)
            ExtractionBatch.objects.filter(pk=batch.pk).update(next_poll_at=timezone.now())
            logger.info("batch %s: ingestion pass out of time; resumed at the next poll", batch.pk)
            return False
    left = batch.runs.filter(status=ExtractionRun.Status.BATCHED).values_list("pk", flat=True)
    runs_requeue(run_ids=left, batch=batch, reason=f"batch {state.status}")
    ExtractionBatch.objects.filter(pk=batch.pk).update(
        status=FINAL[state.status],
        # answers ignored: their runs were cancelled while they waited
        ignored_count=batch.runs.filter(status=ExtractionRun.Status.CANCELLED).count(),
        finished_at=timezone.now(),
        next_poll_at=None,
        error_message=redact(state.detail)[:2000],
    )
    _forget(job, batch)
    return True


def _forget(job: llm_batches.BatchJob, batch: ExtractionBatch) -> None:
    """Every answer is written: the job's files at the provider (its input, its results with
    the extracted data) are deleted. Never fails the ingestion: a file left is logged, and
    cleanup_files --orphaned finds it."""
    try:
        llm_batches.forget(job)
    except LLMError as exc:
        logger.warning(
            "batch %s: its files at the provider were kept: %s", batch.pk, redact(str(exc))
        )


def _ingest_answer(batch: ExtractionBatch, run_id: str, generation) -> bool:
    """Write one answer; False when there was nothing to do (written before, cancelled, or
    not a run of this job)."""
    if not ExtractionRun.objects.filter(pk=run_id, batch=batch).exists():
        return False  # not a run of this job (sent twice by two submissions: another job's)
    full, _ = model_cost_with_source(batch.model, generation.usage)
    paid = generation.cost_usd or Decimal(0)
    paid_for = {"cost_usd": paid, "savings_usd": (full - paid) if full is not None else Decimal(0)}

    def count(fields):
        # A run cancelled while its answer was being written is one of the ignored answers, as
        # if cancelled before (ignored_count, from the cancelled runs): not succeeded as well.
        if fields.get("status") != ExtractionRun.Status.CANCELLED:
            _count(batch, succeeded_count=1, **paid_for)

    outcome = extraction_run_execute(
        run_id=run_id,
        answer=GivenAnswer(route=batch.route, generation=generation),
        # counted in the run's own write: a worker killed right after it cannot lose the count
        on_written=count,
    )
    # "not_claimed": written already (a resumed ingestion), or cancelled
    return outcome not in ("not_claimed", "lease_lost")


def _count(batch: ExtractionBatch, **increments) -> None:
    ExtractionBatch.objects.filter(pk=batch.pk).update(
        **{name: F(name) + value for name, value in increments.items()}
    )
