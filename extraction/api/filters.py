from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from extraction.models import Document


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC before it reaches the database: PostgreSQL refuses offsets
    beyond ±15:59 (a 500 found by API fuzzing); a value that overflows in UTC is a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("Date and time out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (also 1/0, True/False); absent or empty: no filter; anything else is a 400
    naming the parameter, not a filter silently dropped (django-filter's BooleanFilter reads
    `?needs_review=maybe` as "no filter" and lists everything)."""

    KNOWN = ("true", "false", "1", "0")
    widget = forms.TextInput  # the raw value: NullBooleanSelect turns an unknown one into None

    def to_python(self, value):
        if value not in (None, "") and str(value).lower() not in self.KNOWN:
            raise ValidationError("Enter true or false.", code="invalid")
        return super().to_python(value)


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class CreatedRangeFilterSet(django_filters.FilterSet):
    """created_after / created_before. Two filters, not one range: a 400 then names the query
    parameter that is wrong."""

    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )


class DocumentFilter(CreatedRangeFilterSet):
    name = django_filters.CharFilter(
        field_name="original_name",
        lookup_expr="icontains",
        help_text="Part of the original file name (case-insensitive).",
    )

    class Meta:
        model = Document
        fields = ["name", "created_after", "created_before"]
