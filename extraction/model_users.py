"""Extraction's users of catalog models (its profiles), registered with llm.model_users."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.urls import NoReverseMatch, reverse

from extraction.models import ExtractionProfile, ExtractionRun


def profile_model_users():
    rows = ExtractionProfile.objects.order_by("slug").values_list(
        "pk", "slug", "default_model", "fallback_models"
    )
    for pk, slug, default, fallbacks in rows:
        try:
            url = reverse("admin:extraction_extractionprofile_change", args=[pk])
        except NoReverseMatch:
            url = ""
        yield f"profile {slug}", url, [default, *(fallbacks or [])]


def runs_per_model(since):
    """{model used: (runs, cost)} of the runs created since `since` (the model admin's 30 days)."""
    rows = (
        ExtractionRun.objects.filter(created_at__gte=since)
        .exclude(model_used="")
        .values("model_used")
        .annotate(runs=Count("id"), cost=Sum("cost_usd"))
        .order_by()
    )
    return {row["model_used"]: (row["runs"], row["cost"]) for row in rows}
