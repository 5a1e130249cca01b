"""Readiness of the extraction queue: the broker answers; how long the oldest run has waited."""

from __future__ import annotations

from django.conf import settings

from extraction import queue, selectors
from extraction.models import ExtractionRun


def queue_check() -> tuple[bool, dict]:
    """Ready when the broker answers. A long wait is reported, not fatal: the web tier still
    serves, and the sweeper (or more workers) is the remedy, not taking the web out of service."""
    broker = "redis" if settings.Q_CLUSTER.get("redis") else "orm"
    try:
        reachable = queue.broker_ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return False, {"broker": broker, "error": type(exc).__name__}
    age = selectors.oldest_queued_run_age_seconds()
    queued = ExtractionRun.objects.filter(status=ExtractionRun.Status.QUEUED).count()
    running = ExtractionRun.objects.filter(status=ExtractionRun.Status.RUNNING).count()
    return reachable, {
        "broker": broker,
        "queued": queued,
        "running": running,
        "oldest_queued_age_seconds": None if age is None else round(age, 1),
    }
