"""Webhook admin: every endpoint (secrets masked), the delivery log with its tries, and a
"redeliver" action. Changes go through extraction.webhooks.services."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from extraction.webhooks import services
from extraction.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "owner",
        "enabled",
        "disabled_reason",
        "consecutive_failures",
        "secret_masked",
        "created_at",
    ]
    list_filter = ["enabled", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["url", "description", "owner__username"]
    # The secret itself is never a field here: only its mask.
    fields = ["owner", *WebhookEndpoint.SHOWN_FIELDS]
    readonly_fields = [f for f in fields if f not in ("description", "enabled")]

    @admin.display(description="secret")
    def secret_masked(self, obj):
        return obj.secret_masked

    def has_add_permission(self, request):
        return False  # registered by their owners through the API (URL checks, secret once)

    def save_model(self, request, obj, form, change):
        current = WebhookEndpoint.objects.get(pk=obj.pk)
        services.webhook_endpoint_update(
            endpoint=current, **{f: form.cleaned_data[f] for f in form.changed_data}
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["started_at", "status_code", "latency_ms", "error", "next_retry_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "webhook_id",
        "event",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event", "created_at"]
    list_select_related = ["endpoint"]
    search_fields = ["id", "endpoint__url", "run__id"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["redeliver_action"]
    fields = ["webhook_id", "endpoint", *WebhookDelivery.SHOWN_FIELDS, "payload_pretty"]
    readonly_fields = fields

    @admin.display(description="webhook-id")
    def webhook_id(self, obj):
        return obj.webhook_id

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        if not obj.payload:
            return "(built at the first try)"
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.payload), indent=2))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return request.user.has_perm("extraction.redeliver_webhook")

    @admin.action(
        description="Redeliver (same webhook-id, fresh retries)", permissions=["redeliver"]
    )
    def redeliver_action(self, request, queryset):
        count = services.webhook_delivery_redeliver(deliveries=list(queryset))
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)
