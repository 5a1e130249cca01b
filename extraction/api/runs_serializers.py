"""Serializers of profiles and extraction runs (output shapes; input is validated here too)."""

from __future__ import annotations

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extraction.api.verification_serializers import (
    CheckSerializer,
    EvidenceSerializer,
    VerificationCountsSerializer,
)
from extraction.errors import RunErrorCode
from extraction.models import (
    ExtractionAttempt,
    ExtractionProfile,
    ExtractionRun,
    RunRoute,
    Source,
    Transport,
)


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtractionProfile
        fields = [
            "slug",
            *ExtractionProfile.VERSIONED_FIELDS,
            "version",
            "updated_at",
        ]


class ExtractionCreateSerializer(serializers.Serializer):
    profile = serializers.SlugField(max_length=64)
    model = serializers.CharField(max_length=128, required=False, allow_blank=True)
    transport = serializers.ChoiceField(choices=Transport.choices, default=Transport.FILE)
    source = serializers.ChoiceField(
        choices=Source.choices,
        default=Source.AUTO,
        help_text=(
            "auto: an invoice run on a document carrying an e-invoice (Factur-X, ZUGFeRD, "
            "XRechnung, UBL) is answered from its XML (route embedded, no provider call); "
            "model: the model answers, each value compared with the XML in the evidence."
        ),
    )


class ExtractionAcceptedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    url = serializers.CharField()


class UsageSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField(allow_null=True)
    output_tokens = serializers.IntegerField(allow_null=True)
    document_tokens = serializers.IntegerField(allow_null=True)


class RunErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=RunErrorCode.choices,
        help_text="One of the documented run error codes (README: Run error codes).",
    )
    message = serializers.CharField()
    provider_code = serializers.CharField(
        allow_blank=True,
        help_text='The provider\'s own code, when it gave one (e.g. "invalid_request_error").',
    )


class RunWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class TimingsSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    not_before = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    queue_seconds = serializers.FloatField(allow_null=True)
    run_seconds = serializers.FloatField(allow_null=True)


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtractionAttempt
        fields = [
            "route",
            "provider",
            "model",
            "operation",
            "started_at",
            "latency_ms",
            "outcome",
            "http_status",
            "error_code",
            "provider_code",
            "error_message",
            "input_tokens",
            "output_tokens",
            "document_tokens",
            "cost_usd",
            "pages",
        ]
        extra_kwargs = {
            "pages": {
                "help_text": "A segmented run's call (README: Long documents): the pages it sent, "
                'e.g. "11-21"; "" for the whole document.'
            }
        }


_URL_PLACEHOLDER = ExtractionRun(pk=uuid.UUID(int=0))


def run_url(run: ExtractionRun, request=None) -> str:
    path = reverse("api:extraction-detail", kwargs={"run_id": run.pk})
    return request.build_absolute_uri(path) if request is not None else path


def _seconds(start, end):
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


# DRF's to_representation of each field type, for the fast path below (None stays None, as
# Serializer.to_representation does before calling a field).
def _str(value):
    return None if value is None else str(value)


def _int(value):
    return None if value is None else int(value)


def _bool(value):
    return None if value is None else bool(value)


# What ModelSerializer builds for ExtractionRun.cost_usd (a string with all 6 decimal places).
_COST_FIELD = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)


def _choice(value):
    # ChoiceField: "" and None as they are, a choice as its plain string value.
    return value if value in ("", None) else str(value)


class ExtractionRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    document = serializers.UUIDField(source="document_id", read_only=True)
    profile = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    error = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    timings = serializers.SerializerMethodField()
    redo_of = serializers.UUIDField(source="redo_of_id", read_only=True, allow_null=True)
    # Declared, not generated: a read-only model field loses allow_blank, and "" is what a run
    # that never reached a provider (queued, cancelled before it started) has.
    route = serializers.ChoiceField(
        choices=RunRoute.choices,
        allow_blank=True,
        read_only=True,
        help_text='"" until the run has reached a provider; "embedded" when the answer came from '
        "the document's embedded e-invoice XML (no provider call).",
    )
    simulated = serializers.BooleanField(
        read_only=True, help_text="True when the answer came from the provider simulator."
    )
    warnings = RunWarningSerializer(many=True, read_only=True)
    verification = serializers.SerializerMethodField()
    needs_review = serializers.BooleanField(
        read_only=True,
        help_text="A value not found in the document, contradicted by its embedded e-invoice, "
        "or a failed check.",
    )

    class Meta:
        model = ExtractionRun
        fields = [
            "id",
            "url",
            "document",
            "profile",
            "profile_version",
            "status",
            "result",
            "error",
            "warnings",
            "requested_model",
            "fallback_models",
            "model_used",
            "route",
            "transport",
            "source",
            "usage",
            "cost_usd",
            "cost_source",
            "simulated",
            "attempt_count",
            "cancel_requested",
            "trigger",
            "redo_of",
            "batch",
            "timings",
            "verification",
            "needs_review",
        ]
        read_only_fields = fields

    def get_url(self, run) -> str:
        # One reverse() per page, not per run (a list page is 50-200 of them).
        root = self.root if self.root is not None else self
        template = getattr(root, "_run_url_template", None)
        if template is None:
            template = run_url(_URL_PLACEHOLDER, self.context.get("request"))
            root._run_url_template = template
        return template.replace(str(_URL_PLACEHOLDER.pk), str(run.pk))

    def to_representation(self, run):
        # A list page is 50-200 runs x 22 keys; DRF's generic path (one Field object and its
        # get_attribute per key) was most of the request. This builds the same dict, in the same
        # key order with the same value conversions (pinned byte-for-byte against DRF's path in
        # tests/extraction/test_runs_list_representation.py). Subclasses (the detail) keep the
        # generic path.
        if type(self) is not ExtractionRunSerializer:
            return super().to_representation(run)
        cost = run.cost_usd
        if cost is not None:
            cost = _COST_FIELD.to_representation(cost)
        redo_of, batch = run.redo_of_id, run.batch_id
        return {
            "id": str(run.pk),
            "url": self.get_url(run),
            "document": str(run.document_id),
            "profile": run.profile.slug,
            "profile_version": _int(run.profile_version),
            "status": _choice(run.status),
            "result": run.result,
            "error": self.get_error(run),
            "warnings": run.warnings,
            "requested_model": _str(run.requested_model),
            "fallback_models": run.fallback_models,
            "model_used": _str(run.model_used),
            "route": _choice(run.route),
            "transport": _choice(run.transport),
            "source": _choice(run.source),
            "usage": self.get_usage(run),
            "cost_usd": cost,
            "cost_source": _str(run.cost_source),
            "simulated": _bool(run.simulated),
            "attempt_count": _int(run.attempt_count),
            "cancel_requested": _bool(run.cancel_requested),
            "trigger": _choice(run.trigger),
            "redo_of": None if redo_of is None else str(redo_of),
            "batch": None if batch is None else str(batch),
            "timings": self.get_timings(run),
            "verification": run.verification,
            "needs_review": _bool(run.needs_review),
        }

    @extend_schema_field(VerificationCountsSerializer(allow_null=True))
    def get_verification(self, run):
        return run.verification

    @extend_schema_field(RunErrorSerializer(allow_null=True))
    def get_error(self, run):
        if not run.error_code:
            return None
        return {
            "code": run.error_code,
            "message": run.error_message,
            "provider_code": run.error_provider_code,
        }

    @extend_schema_field(UsageSerializer)
    def get_usage(self, run):
        return {
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "document_tokens": run.document_tokens,
        }

    @extend_schema_field(TimingsSerializer)
    def get_timings(self, run):
        return {
            "created_at": run.created_at,
            "queued_at": run.queued_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "not_before": run.not_before,
            "heartbeat_at": run.heartbeat_at,
            "queue_seconds": _seconds(run.created_at, run.started_at),
            "run_seconds": _seconds(run.started_at, run.finished_at),
        }


class ExtractionRunDetailSerializer(ExtractionRunSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)
    evidence = serializers.SerializerMethodField()
    checks = serializers.SerializerMethodField()
    reviewed_result = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text="A reviewer's correction of `result` (null when nobody reviewed the run).",
    )
    reviewed_by = serializers.SerializerMethodField(
        help_text="User name of the reviewer (null when not reviewed, or the user was deleted)."
    )
    reviewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    final = serializers.SerializerMethodField(
        help_text="The result to use: `reviewed_result` when reviewed, else the model's `result`."
    )
    segments = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text=(
            "A long document's run (README: Long documents): `mode` (segmented, map_reduce), its "
            "`calls` by page range, ranges `split` after a cut answer, and `item_pages` (each "
            "merged array item's page); null for a run answered by one call."
        ),
    )

    class Meta(ExtractionRunSerializer.Meta):
        fields = [
            *ExtractionRunSerializer.Meta.fields,
            "evidence",
            "checks",
            "reviewed_result",
            "reviewed_by",
            "reviewed_at",
            "final",
            "segments",
            "raw_output",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(
            child=EvidenceSerializer(),
            allow_null=True,
            help_text="Evidence per JSON path of the result (`total`, `line_items[3].amount`).",
        )
    )
    def get_evidence(self, run):
        return run.evidence

    @extend_schema_field(CheckSerializer(many=True))
    def get_checks(self, run):
        return run.checks or []

    def get_reviewed_by(self, run) -> str | None:
        return run.reviewer.get_username() if run.reviewer_id and run.reviewer else None

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_final(self, run):
        return run.reviewed_result if run.reviewed_result is not None else run.result
