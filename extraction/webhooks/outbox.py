"""The outbox: delivery rows written in the transaction that makes the event true, sent after
commit by a task, and picked up again by the sweeper when that task vanished."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from extraction import queue
from extraction.webhooks import conf
from extraction.webhooks.models import Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


_EVENT_OF_STATUS = {
    "succeeded": Event.SUCCEEDED,
    "failed": Event.FAILED,
    "cancelled": Event.CANCELLED,
}


def send_after_commit(delivery_ids) -> None:
    ids = [str(i) for i in delivery_ids]
    if ids:
        transaction.on_commit(lambda: [queue.enqueue_webhook_send(i) for i in ids])


def run_events(*, status: str, needs_review: bool = False) -> list[str]:
    """The events a run's terminal status raises."""
    events = [_EVENT_OF_STATUS[status]] if status in _EVENT_OF_STATUS else []
    if needs_review and status == "succeeded":
        events.append(Event.NEEDS_REVIEW)
    return events


def webhook_run_events_record(*, run_id, status: str, needs_review: bool = False) -> int:
    """Write the deliveries of a run's terminal event for every subscribed, enabled endpoint of
    the run's owner. Call it INSIDE the transaction of the run's terminal write: the rows exist
    exactly when that write commits, and are sent after the commit. Returns the rows written."""
    events = run_events(status=status, needs_review=needs_review)
    if not events:
        return 0
    endpoints = WebhookEndpoint.objects.filter(owner__documents__runs=run_id, enabled=True).only(
        "id", "events"
    )
    rows = [
        WebhookDelivery(endpoint_id=e.pk, event=event, run_id=run_id, next_attempt_at=None)
        for e in endpoints
        for event in events
        if event in e.events
    ]
    if not rows:
        return 0
    now = timezone.now()
    for row in rows:
        row.next_attempt_at = now
    WebhookDelivery.objects.bulk_create(rows)
    send_after_commit(row.pk for row in rows)
    return len(rows)


def _free(now) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def webhook_deliveries_sweep(*, limit: int = 1000) -> dict[str, int]:
    """Enqueue the sends that are due and that no task is holding: retries whose wait is over,
    rows whose send was claimed by a worker that died (claim expired), and new rows still unsent
    after WEBHOOK_CLAIM_SECONDS (their task was lost between commit and queue). A duplicate
    send is harmless: it claims nothing."""
    now = timezone.now()
    grace = now - timedelta(seconds=conf.claim_seconds())
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .filter(_free(now))
        .filter(
            Q(attempt_count=0, next_attempt_at__lt=grace)
            | Q(attempt_count__gt=0, next_attempt_at__lte=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for delivery_id in ids:
        queue.enqueue_webhook_send(delivery_id)
    if ids:
        logger.info("webhook sweeper: %d deliveries enqueued", len(ids))
    return {"webhooks_enqueued": len(ids)}
