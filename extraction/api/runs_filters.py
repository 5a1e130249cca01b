"""Filters of GET /api/extractions/."""

import django_filters
from django.db.models import Q

from extraction.api.filters import UtcIsoDateTimeFilter
from extraction.models import ExtractionRun, RunRoute


class ExtractionRunFilter(django_filters.FilterSet):
    document = django_filters.UUIDFilter(field_name="document_id")
    profile = django_filters.CharFilter(field_name="profile__slug")
    status = django_filters.MultipleChoiceFilter(choices=ExtractionRun.Status.choices)
    model = django_filters.CharFilter(
        method="filter_model", help_text="Requested model or model used."
    )
    route = django_filters.ChoiceFilter(choices=RunRoute.choices)
    needs_review = django_filters.BooleanFilter(
        help_text="true: runs with a value not found in the document, contradicted by its "
        "embedded e-invoice, or a failed check."
    )
    # Two filters, not one range: a 400 then names the query parameter that is wrong.
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
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
