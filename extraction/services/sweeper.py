"""The sweeper (a django-q2 Schedule runs it every minute): takes back runs whose worker died
and enqueues again queued runs whose task was lost."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from extraction import conf, queue
from extraction.models import ExtractionRun
from extraction.webhooks.outbox import webhook_run_events_record

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status


def extraction_runs_sweep() -> dict[str, int]:
    """Take back runs whose worker died and re-enqueue queued runs whose task was lost.

    - running, heartbeat older than EXTRACTION_STALE_HEARTBEAT_SECONDS -> queued, re-enqueued
      (its next claim counts against EXTRACTION_MAX_ATTEMPTS);
    - queued (and due) for longer than EXTRACTION_STALE_QUEUED_SECONDS while the broker holds no
      waiting task -> enqueued again. A duplicate task is harmless: it claims nothing.

    Runs on its two schedules (twice a minute) and when a worker process starts (a cluster
    restarted after a kill sweeps at once instead of after its scheduler's first 30 s).
    """
    now = timezone.now()
    # Measured first: the tasks this sweep enqueues below must not hide the lost ones.
    backlog = queue.broker_backlog()
    stale = now - timedelta(seconds=conf.stale_heartbeat_seconds())
    requeued = 0
    for run_id, token, cancel in ExtractionRun.objects.filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale),
        status=Status.RUNNING,
    ).values_list("pk", "lease_token", "cancel_requested"):
        mine = ExtractionRun.objects.filter(pk=run_id, status=Status.RUNNING, lease_token=token)
        if cancel:  # its worker died after a cancel was asked for: nothing left to stop
            with transaction.atomic():
                if mine.update(
                    status=Status.CANCELLED,
                    lease_token=None,
                    finished_at=now,
                    error_code="cancelled",
                    error_message="Cancelled while running (its worker was lost).",
                ):
                    webhook_run_events_record(run_id=run_id, status=Status.CANCELLED)
            continue
        with transaction.atomic():
            if mine.update(status=Status.QUEUED, lease_token=None, queued_at=now):
                transaction.on_commit(lambda run_id=run_id: queue.enqueue_task(run_id))
                requeued += 1
                logger.warning("run %s: heartbeat stopped; re-queued", run_id)

    reenqueued = 0
    waited = now - timedelta(seconds=conf.stale_queued_seconds())
    if backlog == 0:
        for run_id in ExtractionRun.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lt=waited),
            status=Status.QUEUED,
            queued_at__lt=waited,
        ).values_list("pk", flat=True):
            with transaction.atomic():
                if ExtractionRun.objects.filter(
                    pk=run_id, status=Status.QUEUED, queued_at__lt=waited
                ).update(queued_at=now):
                    transaction.on_commit(lambda run_id=run_id: queue.enqueue_task(run_id))
                    reenqueued += 1
                    logger.warning("run %s: queued with no task; enqueued again", run_id)
    return {"requeued": requeued, "reenqueued": reenqueued}
