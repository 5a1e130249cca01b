"""Create or remove the every-minute queue-metrics Schedule, following QUEUE_METRICS_ENABLED."""

from django.conf import settings
from django.core.management.base import BaseCommand

from extraction.queue_metrics import SCHEDULE_NAME, queue_metrics_schedule_sync


class Command(BaseCommand):
    help = (
        "Create the django-q2 Schedule that publishes queue metrics to CloudWatch when "
        "QUEUE_METRICS_ENABLED is true, remove it otherwise (the worker runs this at start)."
    )

    def handle(self, *args, **options):
        exists = queue_metrics_schedule_sync(enabled=settings.QUEUE_METRICS_ENABLED)
        state = "scheduled every minute" if exists else "not scheduled (QUEUE_METRICS_ENABLED off)"
        self.stdout.write(f"{SCHEDULE_NAME}: {state}")
