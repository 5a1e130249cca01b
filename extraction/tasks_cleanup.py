"""Scheduled upkeep of remote copies (a django-q2 Schedule made by a migration runs it daily)."""

from datetime import timedelta

from django.conf import settings

from extraction.services.cleanup import uploaded_file_cleanup
from extraction.services.idempotency import idempotency_records_purge


def apply_remote_file_retention() -> dict:
    """Delete remote copies past REMOTE_FILE_RETENTION_DAYS, expired, or of deleted documents."""
    days = settings.REMOTE_FILE_RETENTION_DAYS
    report = uploaded_file_cleanup(older_than=timedelta(days=days), expired=True)
    return {"files": report.files, "bytes": report.bytes}


def purge_idempotency_records() -> dict:
    """Delete Idempotency-Key records older than IDEMPOTENCY_TTL_HOURS (hourly schedule)."""
    return {"deleted": idempotency_records_purge()}
