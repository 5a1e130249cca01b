import django_filters

from extraction.models import Document


class DocumentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        field_name="original_name",
        lookup_expr="icontains",
        help_text="Part of the original file name (case-insensitive).",
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )

    class Meta:
        model = Document
        fields = ["name", "created_after", "created_before"]
