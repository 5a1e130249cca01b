"""Extraction's users of catalog models (its profiles), registered with llm.model_users."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from extraction.models import ExtractionProfile


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
