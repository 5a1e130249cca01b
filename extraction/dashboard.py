"""Selectors for the staff dashboard: every number is an aggregate query (no loops over rows).

Percentiles are computed portably (SQLite and PostgreSQL alike): one COUNT per model, then one
ordered query with an OFFSET per percentile (nearest-rank).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from extraction.batches.dashboard import batch_state
from extraction.models import ExtractionAttempt, ExtractionRun, UploadedFile

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90)}  # fmt: skip
DEFAULT_RANGE = "7d"
STATUSES = [s.value for s in ExtractionRun.Status]
FALLBACK_OUTCOME = "fallback"  # llm.policy.Action.FALLBACK, as recorded on ExtractionAttempt


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        first, last = self.start.date(), self.end.date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def window_for(key: str | None, *, now: datetime | None = None) -> Window:
    key = key if key in RANGES else DEFAULT_RANGE
    end = now or timezone.now()
    return Window(key=key, start=end - RANGES[key], end=end)


def _runs(window: Window):
    return ExtractionRun.objects.filter(created_at__gte=window.start, created_at__lte=window.end)


def runs_per_day_by_status(window: Window) -> dict[date, dict[str, int]]:
    """{day: {status: count}} for every day of the window (zeros included)."""
    table = {day: dict.fromkeys(STATUSES, 0) for day in window.days}
    rows = (
        _runs(window)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        table.setdefault(row["day"], dict.fromkeys(STATUSES, 0))[row["status"]] = row["n"]
    return table


def _fell_back():
    return Exists(ExtractionAttempt.objects.filter(run=OuterRef("pk"), outcome=FALLBACK_OUTCOME))


def fallback_rate_per_day(window: Window) -> dict[date, tuple[int, int]]:
    """{day: (succeeded runs, of which answered by a fallback)}.

    A run fell back when one of its attempts handed over to the next route (outcome
    "fallback": the proxy unreachable, a provider refusing the key, retries exhausted), or when
    another model than the one requested answered. A direct route that is simply the first of
    the plan (no proxy configured) is not a fallback.
    """
    rows = (
        _runs(window)
        .filter(status=ExtractionRun.Status.SUCCEEDED)
        .annotate(day=TruncDate("created_at"), fell_back=_fell_back())
        .values("day")
        .annotate(
            total=Count("id"),
            fallback=Count("id", filter=Q(fell_back=True) | ~Q(model_used=F("requested_model"))),
        )
        .order_by("day")
    )
    table = {day: (0, 0) for day in window.days}
    for row in rows:
        table[row["day"]] = (row["total"], row["fallback"])
    return table


def cost_by(window: Window, field: str) -> list[tuple[str, Decimal, int]]:
    """[(label, total cost in USD, runs)] grouped by `field`, most expensive first."""
    rows = (
        _runs(window)
        .exclude(cost_usd__isnull=True)
        .values(label=F(field))
        .annotate(cost=Sum("cost_usd"), runs=Count("id"))
        .order_by("-cost", "label")
    )
    return [(row["label"] or "(none)", row["cost"] or Decimal(0), row["runs"]) for row in rows]


def review_share_by_model(window: Window) -> list[dict]:
    """[{model, runs, needs_review, share}] of succeeded runs, the largest share first."""
    rows = (
        _runs(window)
        .filter(status="succeeded")
        .values("model_used")
        .annotate(runs=Count("id"), flagged=Count("id", filter=Q(needs_review=True)))
        .order_by("model_used")
    )
    table = [
        {
            "model": row["model_used"] or "(none)",
            "runs": row["runs"],
            "needs_review": row["flagged"],
            "share": row["flagged"] / row["runs"],
        }
        for row in rows
    ]
    return sorted(table, key=lambda row: (-row["share"], row["model"]))


_DURATION = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # backends that return microseconds


def latency_percentiles(window: Window, percentiles=(50, 95)) -> list[dict]:
    """[{model, runs, p50, p95}] of succeeded runs (seconds from start to finish)."""
    timed = _runs(window).filter(
        status=ExtractionRun.Status.SUCCEEDED,
        started_at__isnull=False,
        finished_at__isnull=False,
    )
    counts = timed.values("model_used").annotate(n=Count("id")).order_by("model_used")
    result = []
    for row in counts:
        model, n = row["model_used"], row["n"]
        ordered = (
            timed.filter(model_used=model).annotate(duration=_DURATION).order_by("duration", "pk")
        )
        entry = {"model": model or "(none)", "runs": n}
        for p in percentiles:
            offset = max(math.ceil(p / 100 * n) - 1, 0)
            value = ordered.values_list("duration", flat=True)[offset : offset + 1]
            entry[f"p{p}"] = _seconds(next(iter(value), None))
        result.append(entry)
    return result


def queue_state(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    agg = ExtractionRun.objects.aggregate(
        queued=Count("id", filter=Q(status=ExtractionRun.Status.QUEUED)),
        running=Count("id", filter=Q(status=ExtractionRun.Status.RUNNING)),
        oldest=Min(
            Coalesce("queued_at", "created_at"), filter=Q(status=ExtractionRun.Status.QUEUED)
        ),
    )
    oldest = agg["oldest"]
    return {
        "queued": agg["queued"],
        "running": agg["running"],
        "oldest_queued_at": oldest,
        "oldest_queued_age_seconds": (now - oldest).total_seconds() if oldest else None,
        "oldest_queued_run": (
            ExtractionRun.objects.filter(status=ExtractionRun.Status.QUEUED)
            .order_by(Coalesce("queued_at", "created_at").asc(), "pk")
            .values_list("pk", flat=True)
            .first()
        ),
    }


def remote_files_by_state() -> dict[str, int]:
    counts = dict.fromkeys(UploadedFile.State.values, 0)
    for row in UploadedFile.objects.values("state").annotate(n=Count("id")).order_by():
        counts[row["state"]] = row["n"]
    return counts


def remote_bytes_per_provider() -> list[tuple[str, int, int]]:
    """[(route/provider, bytes held, files)] of copies still held (active or expired-unpurged)."""
    rows = (
        UploadedFile.objects.filter(state=UploadedFile.State.ACTIVE)
        .values("route", "provider")
        .annotate(bytes=Sum("bytes"), files=Count("id"))
        .order_by("-bytes", "provider")
    )
    return [(f"{r['route']}/{r['provider']}", r["bytes"] or 0, r["files"]) for r in rows]


def dashboard_data(range_key: str | None, *, now: datetime | None = None) -> dict:
    window = window_for(range_key, now=now)
    return {
        "window": window,
        "runs_per_day": runs_per_day_by_status(window),
        "fallback_per_day": fallback_rate_per_day(window),
        "cost_by_model": cost_by(window, "model_used"),
        "cost_by_profile": cost_by(window, "profile__slug"),
        "latency": latency_percentiles(window),
        "review_share": review_share_by_model(window),
        "queue": queue_state(now=now),
        "simulated_runs": _runs(window).filter(simulated=True).count(),
        "files_by_state": remote_files_by_state(),
        "bytes_per_provider": remote_bytes_per_provider(),
        "batches": batch_state(window),
    }
