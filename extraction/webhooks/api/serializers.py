"""Webhook API shapes. The secret is in the create and rotate answers only; elsewhere masked."""

from rest_framework import serializers

from extraction.webhooks.models import (
    SUBSCRIBABLE_EVENTS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

MAX_OVERLAP_SECONDS = 7 * 24 * 3600


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret_masked = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", *WebhookEndpoint.SHOWN_FIELDS]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.SerializerMethodField()

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, endpoint) -> str:
        # Given once (creation, rotation): the view passes it in the context.
        return self.context["secret"]


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
        required=False,
        allow_empty=False,
        help_text="Default: every extraction event.",
    )
    enabled = serializers.BooleanField(required=False)


class RotateSecretInputSerializer(serializers.Serializer):
    overlap_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_OVERLAP_SECONDS,
        required=False,
        help_text="How long the previous secret still signs "
        "(default WEBHOOK_SECRET_OVERLAP_SECONDS).",
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["started_at", "latency_ms", "status_code", "error", "next_retry_at"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(read_only=True)
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook_id", *WebhookDelivery.SHOWN_FIELDS, "attempts"]
        read_only_fields = fields
