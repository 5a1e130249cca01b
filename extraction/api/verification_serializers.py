"""The verification part of a run's representation: evidence per value, checks, counts."""

from __future__ import annotations

from rest_framework import serializers


class VerificationCountsSerializer(serializers.Serializer):
    verified = serializers.IntegerField(help_text="Values found in the document's text layer.")
    not_found = serializers.IntegerField(
        help_text="Values the text layer does not contain (the document has one)."
    )
    unverifiable = serializers.IntegerField(
        help_text="Values that cannot be checked against the text (no text layer, booleans, …)."
    )


EVIDENCE_STATUSES = [
    "verified",
    "not_found",
    "unverifiable",
    "null",
    "matches_embedded",
    "contradicts_embedded",
]


class OccurrenceSerializer(serializers.Serializer):
    page = serializers.IntegerField(help_text="1-based page number.")
    text = serializers.CharField(help_text="The text as printed (whitespace collapsed).")
    bbox = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        allow_null=True,
        help_text="[left, bottom, right, top] in PDF points, origin at the page's bottom left.",
    )


class EvidenceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=EVIDENCE_STATUSES)
    reason = serializers.CharField(
        required=False,
        help_text="Why unverifiable: no_text_layer, pages_without_text, free_text, not_text.",
    )
    page = serializers.IntegerField(required=False, help_text="Verified: first occurrence.")
    text = serializers.CharField(required=False)
    bbox = serializers.ListField(child=serializers.FloatField(), required=False, allow_null=True)
    occurrences = OccurrenceSerializer(many=True, required=False, help_text="Up to 3.")
    item_page = serializers.IntegerField(
        required=False,
        help_text="An item of a segmented array: the page it was read on, the only one searched.",
    )
    embedded_value = serializers.JSONField(
        required=False,
        help_text="matches_embedded / contradicts_embedded: the value in the embedded e-invoice.",
    )
    text_status = serializers.ChoiceField(
        choices=EVIDENCE_STATUSES[:4],
        required=False,
        help_text="Compared with an embedded e-invoice: what the text layer said of the value.",
    )


class CheckSerializer(serializers.Serializer):
    rule = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True, help_text="null: skipped (an input is null).")
    detail = serializers.CharField()
