"""Sending one delivery: claim it, try once, record the try and decide what comes next."""

from __future__ import annotations

import json
import logging
import os
import random
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from extraction.webhooks import conf, delivery
from extraction.webhooks.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from extraction.webhooks.signing import signature_headers

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


def _claim(delivery_id) -> bool:
    now = timezone.now()
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=conf.claim_seconds()),
            attempt_count=F("attempt_count") + 1,
        )
    )


def _run_data(run_id) -> dict | None:
    """The run as GET /api/extractions/{id}/ shows it (None when it no longer exists)."""
    from extraction.api.runs_serializers import ExtractionRunDetailSerializer
    from extraction.models import ExtractionRun

    run = (
        ExtractionRun.objects.select_related("profile", "document")
        .prefetch_related("attempts")
        .filter(pk=run_id)
        .first()
    )
    return None if run is None else dict(ExtractionRunDetailSerializer(run).data)


def _payload(d: WebhookDelivery) -> str | None:
    if d.payload:
        return d.payload
    if d.event == Event.PING:
        data = {"endpoint_id": str(d.endpoint_id)}
    else:
        data = _run_data(d.run_id) if d.run_id else None
        if data is None:
            return None
    body = json.dumps(
        {"type": d.event, "timestamp": d.created_at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    # Frozen once: a retry sends the same bytes even if the run changed since.
    WebhookDelivery.objects.filter(pk=d.pk, payload="").update(payload=body)
    return WebhookDelivery.objects.values_list("payload", flat=True).get(pk=d.pk)


def _signing_secrets(endpoint: WebhookEndpoint, now) -> list[str]:
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def retry_wait(attempt_count: int) -> float | None:
    """Seconds before the next try after `attempt_count` failed ones; None: give up."""
    schedule = conf.retry_schedule()
    if attempt_count > len(schedule):
        return None
    jitter = conf.retry_jitter()
    return schedule[attempt_count - 1] * random.uniform(1 - jitter, 1 + jitter)


def _disable(endpoint_id, reason: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason[:500], disabled_at=timezone.now()
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)


def _finish(d: WebhookDelivery, **fields) -> None:
    WebhookDelivery.objects.filter(pk=d.pk).update(claimed_until=None, **fields)


def _give_up(d: WebhookDelivery, error: str, *, count_failure: bool = True) -> None:
    _finish(d, status=Status.FAILED, next_attempt_at=None, last_error=error[:500])
    if not count_failure:
        return
    WebhookEndpoint.objects.filter(pk=d.endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(
        pk=d.endpoint_id
    )
    if failures >= conf.disable_after_failures():
        _disable(d.endpoint_id, f"{failures} consecutive deliveries failed (last: {error})")


def webhook_delivery_send(*, delivery_id) -> str:
    """Try one delivery once, if it is due and no other send holds it; returns what happened
    ("not_claimed", "delivered", "retry", "failed")."""
    if not _claim(delivery_id):
        return "not_claimed"
    d = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    logger.info("webhook %s claimed (try %d, pid %d)", d.webhook_id, d.attempt_count, os.getpid())
    endpoint = d.endpoint
    if not endpoint.enabled:
        _give_up(d, "endpoint disabled", count_failure=False)
        return "failed"
    body = _payload(d)
    if body is None:
        _give_up(d, "the run no longer exists", count_failure=False)
        return "failed"
    now = timezone.now()
    headers = signature_headers(
        msg_id=d.webhook_id, timestamp=now, body=body, secrets_=_signing_secrets(endpoint, now)
    )
    result = delivery.post(url=endpoint.url, body=body, headers=headers)
    error = result.error or ("" if result.delivered else f"HTTP {result.status_code}")
    wait = None if result.delivered or result.status_code == 410 else retry_wait(d.attempt_count)
    next_at = timezone.now() + timedelta(seconds=wait) if wait is not None else None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=d,
            started_at=now,
            latency_ms=result.latency_ms,
            status_code=result.status_code,
            error=error[:500],
            next_retry_at=next_at,
        )
        fields = {"last_status_code": result.status_code, "last_error": error[:500]}
        if result.delivered:
            _finish(d, status=Status.DELIVERED, delivered_at=timezone.now(), **fields)
            WebhookEndpoint.objects.filter(pk=d.endpoint_id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
            outcome = "delivered"
        elif result.status_code == 410:
            _finish(d, status=Status.FAILED, next_attempt_at=None, **fields)
            _disable(d.endpoint_id, "The receiver answered 410 Gone.")
            outcome = "failed"
        elif next_at is None:
            _finish(d, **fields)
            _give_up(d, error)
            outcome = "failed"
        else:
            _finish(d, next_attempt_at=next_at, **fields)
            outcome = "retry"
    logger.info(
        "webhook %s (%s) to endpoint %s: try %d, %s",
        d.webhook_id,
        d.event,
        d.endpoint_id,
        d.attempt_count,
        result.status_code or error,
    )
    return outcome
