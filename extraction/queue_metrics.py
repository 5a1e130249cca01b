"""Queue health published to CloudWatch, for the "oldest queued run" alarm (docs/deploy.md).

The worker runs `publish_queue_metrics` every minute from a django-q2 Schedule that
`manage.py queue_metrics_schedule` creates when QUEUE_METRICS_ENABLED is true (the entrypoint's
worker role calls it at start) and removes otherwise, so laptops never get the schedule.
"""

from django.conf import settings
from django.db.models import Count

from extraction import queue
from extraction.models import ExtractionRun
from extraction.selectors import oldest_queued_run_age_seconds

SCHEDULE_NAME = "publish-queue-metrics"
TASK = "extraction.queue_metrics.publish_queue_metrics"
OLDEST_QUEUED_RUN_METRIC = "OldestQueuedRunAgeSeconds"


def queue_metrics_collect() -> dict[str, float]:
    """Current queue figures: oldest queued run's age (0 when none waits) and counts."""
    counts = {status: 0 for status in ExtractionRun.ACTIVE_STATUSES}
    for row in (
        ExtractionRun.objects.filter(status__in=ExtractionRun.ACTIVE_STATUSES)
        .values("status")
        .order_by()
        .annotate(n=Count("id"))
    ):
        counts[row["status"]] = row["n"]
    return {
        OLDEST_QUEUED_RUN_METRIC: float(oldest_queued_run_age_seconds() or 0.0),
        "QueuedRuns": float(counts[ExtractionRun.Status.QUEUED]),
        "RunningRuns": float(counts[ExtractionRun.Status.RUNNING]),
    }


def queue_metrics_publish(*, client=None) -> dict[str, float]:
    """Send the queue figures to CloudWatch (namespace QUEUE_METRICS_NAMESPACE); returns them."""
    figures = queue_metrics_collect()
    if client is None:
        import boto3

        client = boto3.client("cloudwatch", region_name=settings.QUEUE_METRICS_REGION or None)
    units = {OLDEST_QUEUED_RUN_METRIC: "Seconds"}
    client.put_metric_data(
        Namespace=settings.QUEUE_METRICS_NAMESPACE,
        MetricData=[
            {"MetricName": name, "Value": value, "Unit": units.get(name, "Count")}
            for name, value in figures.items()
        ],
    )
    return figures


def queue_metrics_schedule_sync(*, enabled: bool) -> bool:
    """Create (enabled) or delete the every-minute Schedule; returns whether it now exists."""
    return queue.schedule_every_minute(name=SCHEDULE_NAME, func=TASK, enabled=enabled)


def publish_queue_metrics() -> dict[str, float] | None:
    """The scheduled task: a no-op unless QUEUE_METRICS_ENABLED."""
    if not settings.QUEUE_METRICS_ENABLED:
        return None
    return queue_metrics_publish()
