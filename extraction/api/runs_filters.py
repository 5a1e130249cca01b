"""Filters of GET /api/extractions/."""

import django_filters
from django.db.models import Q

from extraction.api.filters import CreatedRangeFilterSet, StrictBooleanFilter
from extraction.models import ExtractionRun, RunRoute


class ExtractionRunFilter(CreatedRangeFilterSet):
    document = django_filters.UUIDFilter(field_name="document_id")
    profile = django_filters.CharFilter(field_name="profile__slug")
    status = django_filters.MultipleChoiceFilter(choices=ExtractionRun.Status.choices)
    model = django_filters.CharFilter(
        method="filter_model", help_text="Requested model or model used."
    )
    route = django_filters.ChoiceFilter(choices=RunRoute.choices)
    needs_review = StrictBooleanFilter(
        help_text="true: runs with a value not found in the document, contradicted by its "
        "embedded e-invoice, or a failed check."
    )

    class Meta:
        model = ExtractionRun
        fields = [
            "document",
            "profile",
            "status",
            "model",
            "route",
            "needs_review",
            "created_after",
            "created_before",
        ]

    def filter_model(self, queryset, name, value):
        return queryset.filter(Q(requested_model=value) | Q(model_used=value))
