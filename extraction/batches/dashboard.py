"""The dashboard's batch figures (aggregate queries): open batch jobs, runs waiting in them, and
the money batch jobs saved per day (full price − paid, recorded per job as it is collected)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from extraction.batches.models import ExtractionBatch
from extraction.models import ExtractionRun


def batch_state(window) -> dict:
    jobs = ExtractionBatch.objects.aggregate(
        open=Count("id", filter=Q(status__in=ExtractionBatch.OPEN_STATUSES))
    )
    pending = ExtractionRun.objects.filter(status=ExtractionRun.Status.BATCHED).count()
    saved = {day: Decimal(0) for day in window.days}
    rows = (
        ExtractionBatch.objects.filter(finished_at__gte=window.start, finished_at__lte=window.end)
        .annotate(day=TruncDate("finished_at"))
        .values("day")
        .annotate(saved=Sum("savings_usd"), paid=Sum("cost_usd"))
        .order_by("day")
    )
    paid = Decimal(0)
    for row in rows:
        saved[row["day"]] = row["saved"] or Decimal(0)
        paid += row["paid"] or Decimal(0)
    return {
        "open": jobs["open"],
        "pending": pending,
        "saved_per_day": saved,
        "saved": sum(saved.values(), Decimal(0)),
        "paid": paid,
    }
