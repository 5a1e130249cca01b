"""Errors of the webhook API (rendered as {"code", "detail", …} like every other)."""

from rest_framework import status

from remorai.errors import ApplicationError, Conflict


class WebhookUrlRefused(ApplicationError):
    """The URL may not receive webhooks: `reason` says why (insecure_scheme, credentials,
    unresolvable, forbidden_address)."""

    code = "webhook_url_refused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This URL cannot receive webhooks."


class UnknownWebhookEvent(ApplicationError):
    code = "unknown_webhook_event"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Unknown event type."


class WebhookEndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
    default_detail = "This endpoint is disabled; enable it first."
