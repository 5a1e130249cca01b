"""Submitting runs as provider batch jobs (#16 §1): runs waiting in status "batched" with no
batch yet are grouped by requested model (so by provider), their documents uploaded where no
live remote copy exists, and sent as jobs (llm.batches) within the provider's limits, one
ExtractionBatch row per job. Runs are read a page at a time; the job input streams to disk.

If submission stops half-way (a crash, the provider refusing), nothing is lost: runs whose job
was not created go back to the normal queue (or are picked up again by the next submission).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from extraction import conf, queue, segmenting
from extraction.batches.models import ExtractionBatch
from extraction.models import Document, ExtractionRun, UploadedFile
from extraction.services.files import DocumentFileCache, document_local_path
from extraction.verification.embedded_route import answers_from_xml
from llm import batches as llm_batches
from llm import policy
from llm.catalog import get_model
from llm.errors import LLMError
from llm.gateways import get_gateway
from llm.routing import Route, fits
from llm.types import GenerationRequest, RemoteFile
from remorai.errors import ApplicationError
from remorai.logging import redact

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status
PAGE = 500
# First look at a new job after this long; then the back-off of batch_ingest.next_poll_delay.
FIRST_POLL = timedelta(seconds=30)
BATCH_WINDOW = timedelta(hours=24)  # the providers' completion window
# One submission at a time (two at once would both send the runs neither has marked yet, each
# paid twice). A submitter killed while holding the lock frees it after LOCK_SECONDS.
SUBMIT_LOCK = "extraction:batch-submission"
LOCK_SECONDS = 15 * 60
LOCK_WAIT_SECONDS = 60


def waiting_runs(run_ids=None):
    """Selector: runs in status batched that no job carries yet."""
    runs = ExtractionRun.objects.filter(status=Status.BATCHED, batch__isnull=True)
    return runs.filter(pk__in=run_ids) if run_ids is not None else runs


def runs_requeue(*, run_ids, batch: ExtractionBatch | None = None, reason: str = "") -> int:
    """Batched runs back to the normal queue (their tasks enqueued after commit); a run no
    longer batched (cancelled, already answered) is left alone. Returns how many went back,
    counted in `batch`'s requeued_count in the same transaction."""
    runs = ExtractionRun.objects.filter(pk__in=list(run_ids), status=Status.BATCHED)
    if batch is not None:
        runs = runs.filter(batch=batch)
    with transaction.atomic():
        moved = list(runs.select_for_update().values_list("pk", flat=True))
        ExtractionRun.objects.filter(pk__in=moved).update(
            status=Status.QUEUED, queued_at=timezone.now()
        )
        if batch is not None and moved:
            ExtractionBatch.objects.filter(pk=batch.pk).update(
                requeued_count=F("requeued_count") + len(moved)
            )
        transaction.on_commit(lambda: [queue.enqueue_task(pk) for pk in moved])
    if moved:
        logger.info("%d batched runs back to the normal queue: %s", len(moved), reason)
    return len(moved)


def _pages(runs, *fields: str) -> Iterator[list[ExtractionRun]]:
    """The runs (only `fields` read) a page at a time, by primary key: each page a fresh query,
    safe to write between pages on every database."""
    last = None
    while True:
        page = runs.order_by("pk").only("pk", "document_id", *fields)
        if last is not None:
            page = page.filter(pk__gt=last)
        related = {field.split("__")[0] for field in fields if "__" in field}
        page = list(page.select_related(*related)[:PAGE])
        if not page:
            return
        yield page
        last = page[-1].pk


def _prepare(runs, route: str, provider: str, model: str) -> None:
    """Every document of `runs` gets a live remote copy at (route, provider); a run whose
    document cannot be uploaded, or that one call of the job's model cannot answer (see
    _elsewhere), goes back to the normal queue instead."""
    gateway = get_gateway(route, provider)
    plan_route = Route(route=route, provider=provider, model=model, gateway=gateway.name)
    held = _lasting(UploadedFile.objects.filter(route=route, provider=provider))
    spec = get_model(model)
    fields = ("segmenting", "schema", "source", "profile__slug", "document__page_count")
    for page in _pages(runs, *fields, "document__size_bytes", "document__embedded_invoice"):
        elsewhere = {r.pk: why for r in page if (why := _elsewhere(r, spec))}
        for reason in sorted(set(elsewhere.values())):
            moved = [pk for pk, why in elsewhere.items() if why == reason]
            runs_requeue(run_ids=moved, reason=reason)
        # one query a page for the documents already held (a re-extraction: most of them)
        seen = set(
            held.filter(document_id__in={r.document_id for r in page}).values_list(
                "document_id", flat=True
            )
        )
        for run in page:
            if run.document_id in seen or run.pk in elsewhere:
                continue
            seen.add(run.document_id)
            try:
                _upload_one(run.document, gateway, plan_route)
            except (LLMError, ApplicationError, OSError) as exc:  # OSError: its file is gone
                failed = runs.filter(document_id=run.document_id).values_list("pk", flat=True)
                runs_requeue(run_ids=failed, reason=f"upload failed: {redact(str(exc))}")


def _elsewhere(run: ExtractionRun, spec) -> str:
    """Why `run` takes the normal path rather than one item of a batch job ("": it does not)."""
    if answers_from_xml(run):  # no provider call, no cost
        return "answered from the embedded e-invoice"
    if _in_segments(run):  # a long document (#14)
        return "answered in segments: the normal path"
    document = run.document
    if not fits(spec, page_count=document.page_count, size_bytes=document.size_bytes):
        # the provider would reject the item when the job ends (up to 24 h later)
        return f"over {spec.name}'s page or byte limits: the normal path (map-reduce, fallbacks)"
    return ""


def _in_segments(run: ExtractionRun) -> bool:
    settings = segmenting.of_run(run)
    return settings.segmented and settings.needs_segments(run.document.page_count)


def _lasting(copies):
    """Active copies that outlast a batch job (Gemini deletes files after 48 h; a job may take
    24): a copy that would expire meanwhile is not used, a fresh one is uploaded."""
    cutoff = timezone.now() + BATCH_WINDOW + timedelta(seconds=conf.remote_file_margin_seconds())
    # the whole document's copies only (pages "": a segment's sub-PDF has its own rows, #14)
    live = copies.filter(state=UploadedFile.State.ACTIVE, pages="")
    return live.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=cutoff))


def _upload_one(document: Document, gateway, route: Route) -> RemoteFile:
    short = UploadedFile.objects.filter(
        document=document, route=route.route, provider=route.provider, pages=""
    )
    short.filter(state=UploadedFile.State.ACTIVE).exclude(pk__in=_lasting(short)).update(
        state=UploadedFile.State.EXPIRED  # too short-lived for the job: the cache uploads again
    )

    def upload() -> RemoteFile:
        with document_local_path(document) as path:
            return policy.call(
                route,
                "upload",
                lambda timeout: gateway.upload(
                    path, document.original_name, "application/pdf", model=route.model
                ),
                on_attempt=lambda attempt: None,
            )

    return DocumentFileCache(document).get_or_upload(
        route=route.route, provider=route.provider, model=route.model, upload=upload
    )


def _items(runs, route: str, provider: str, model: str) -> Iterator[llm_batches.BatchItem]:
    live = _lasting(UploadedFile.objects.filter(route=route, provider=provider))
    for page in _pages(runs, "instructions", "schema", "document__original_name"):
        copies = {
            row.document_id: row
            for row in live.filter(document_id__in={r.document_id for r in page}).order_by(
                "created_at"
            )
        }
        for run in page:
            copy = copies.get(run.document_id)
            if copy is None:  # its upload failed: back in the normal queue already
                continue
            remote = RemoteFile(id=copy.remote_id, bytes=copy.bytes, expires_at=copy.expires_at)
            request = GenerationRequest(
                model=model,
                instructions=run.instructions,
                schema=run.schema,
                file=remote,
                filename=run.document.original_name,
            )
            yield llm_batches.BatchItem(key=str(run.pk), request=request)


def extraction_batches_submit(*, run_ids=None, wait=None) -> list[ExtractionBatch]:
    """Send the waiting batched runs (those of `run_ids`, else all) as provider batch jobs:
    one or more per requested model. Returns the batches created. While another submission
    runs, this one waits for it up to `wait` seconds (LOCK_WAIT_SECONDS), then leaves the runs
    waiting (the batch poll sends runs left waiting, STRANDED_AFTER)."""
    token = _lock(LOCK_WAIT_SECONDS if wait is None else wait)
    if token is None:
        logger.info("another batch submission is running: these runs wait for the next one")
        return []
    try:
        return _submit(run_ids)
    finally:
        if token and cache.get(SUBMIT_LOCK) == token:
            cache.delete(SUBMIT_LOCK)


def _lock(wait: float) -> str | None:
    """The submission lock's token (None: still held by another after `wait` seconds; "": the
    shared cache is unreachable, so go on unguarded rather than not at all)."""
    token, deadline = uuid.uuid4().hex, time.monotonic() + wait
    while True:
        try:
            if cache.add(SUBMIT_LOCK, token, timeout=LOCK_SECONDS):
                return token
        except Exception:  # noqa: BLE001 - DatabaseError, a Redis error: the cache is away
            logger.warning("batch submission lock unavailable (its cache is unreachable)")
            return ""
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


def _submit(run_ids) -> list[ExtractionBatch]:
    created = []
    models = waiting_runs(run_ids).values_list("requested_model", flat=True).distinct()
    for model in sorted(set(models)):
        runs = waiting_runs(run_ids).filter(requested_model=model)
        try:
            provider = get_model(model).provider
        except LLMError as exc:
            runs_requeue(run_ids=runs.values_list("pk", flat=True), reason=str(exc))
            continue
        route = llm_batches.batch_route(provider)
        try:
            _prepare(runs, route, provider, model)
            items = _items(runs, route, provider, model)
            for job_input in llm_batches.prepare(
                provider=provider, model=model, items=items, route=route
            ):
                with job_input:
                    created.append(_submit_one(job_input))
        except LLMError as exc:  # no key for the route, an item over the limits, …
            logger.warning("batch submission for %s stopped: %s", model, redact(str(exc)))
            runs_requeue(run_ids=runs.values_list("pk", flat=True), reason=exc.code)
    return created


def _submit_one(job_input: llm_batches.BatchInput) -> ExtractionBatch:
    batch = ExtractionBatch.objects.create(
        provider=job_input.provider,
        model=job_input.model,
        route=job_input.route,
        item_count=job_input.count,
    )
    keys = job_input.keys()
    while page := [key for _, key in zip(range(PAGE), keys, strict=False)]:
        waiting_runs(page).update(batch=batch)
    try:
        job = llm_batches.submit(job_input, display_name=f"remorai-{batch.pk}")
    except LLMError as exc:
        logger.warning("batch %s refused by %s: %s", batch.pk, batch.provider, exc)
        ExtractionBatch.objects.filter(pk=batch.pk).update(
            status=ExtractionBatch.Status.FAILED,
            error_message=redact(str(exc))[:2000],
            finished_at=timezone.now(),
        )
        batch.refresh_from_db()
        runs_requeue(
            run_ids=batch.runs.values_list("pk", flat=True), batch=batch, reason="batch refused"
        )
        return batch
    now = timezone.now()
    ExtractionBatch.objects.filter(pk=batch.pk).update(
        status=ExtractionBatch.Status.RUNNING,
        remote_id=job.remote_id,
        input_file_id=job.input_file_id,
        submitted_at=now,
        next_poll_at=now + FIRST_POLL,
    )
    batch.refresh_from_db()
    logger.info("batch %s: %d runs sent to %s", batch.pk, batch.item_count, job.remote_id)
    return batch


def extraction_batch_cancel(*, batch: ExtractionBatch) -> int:
    """Cancel every run still waiting in the job (their answers will be ignored); the batch is
    looked at by the next poll, which cancels it at the provider (no run waits for it any
    more). Returns how many runs were cancelled."""
    from extraction.services.runs import extraction_run_cancel

    cancelled = 0
    for run in batch.runs.filter(status=Status.BATCHED).iterator():
        if extraction_run_cancel(run=run).status == Status.CANCELLED:
            cancelled += 1
    ExtractionBatch.objects.filter(pk=batch.pk, status=ExtractionBatch.Status.RUNNING).update(
        next_poll_at=timezone.now()
    )
    return cancelled
