"""Idempotency records live IDEMPOTENCY_TTL_HOURS: past that a key starts afresh, and the
hourly purge (a django-q2 Schedule made by migration 0007) deletes them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from extraction.models import IdempotencyRecord


def idempotency_cutoff(*, now: datetime | None = None) -> datetime:
    """Records created before this have expired."""
    return (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete expired records; the number deleted."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=idempotency_cutoff(now=now)
    ).delete()
    return deleted
