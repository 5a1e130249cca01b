"""Webhook reads: owner-scoped, with what the API shows loaded in the same few queries."""

from django.db.models import Prefetch, QuerySet

from extraction.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list(*, owner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=owner).order_by("-created_at")


def webhook_endpoint_get(*, owner, endpoint_id) -> WebhookEndpoint:
    """WebhookEndpoint.DoesNotExist (-> 404) for anyone else's."""
    return WebhookEndpoint.objects.get(owner=owner, pk=endpoint_id)


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .defer("payload")
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("id")))
        .order_by("-created_at")
    )
