"""Webhook endpoint writes (API and admin call these): register, change, delete, rotate the
secret, send a ping, redeliver."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from extraction.webhooks import conf, ssrf
from extraction.webhooks.errors import UnknownWebhookEvent, WebhookEndpointDisabled
from extraction.webhooks.models import (
    SUBSCRIBABLE_EVENTS,
    Event,
    WebhookDelivery,
    WebhookEndpoint,
)
from extraction.webhooks.outbox import send_after_commit
from extraction.webhooks.signing import new_secret

logger = logging.getLogger(__name__)


def _events_check(events) -> list[str]:
    events = list(dict.fromkeys(events)) if events is not None else list(SUBSCRIBABLE_EVENTS)
    unknown = [e for e in events if e not in SUBSCRIBABLE_EVENTS]
    if unknown or not events:
        raise UnknownWebhookEvent(
            f"Unknown or no event types; choose among {', '.join(SUBSCRIBABLE_EVENTS)}.",
            events=unknown,
        )
    return events


def webhook_endpoint_create(
    *, owner, url: str, description: str = "", events=None, enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; the URL is checked (scheme, and every address it resolves to).
    Returns the endpoint and its secret — the only time the secret is given out."""
    events = _events_check(events)
    ssrf.check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        owner=owner,
        url=url,
        description=description,
        events=events,
        enabled=enabled,
        secret=secret,
    )
    logger.info("webhook endpoint %s registered by user %s", endpoint.pk, owner.pk)
    return endpoint, secret


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url, description, events or enabled. Enabling clears the reason it was disabled
    and its failure count."""
    fields = []
    if "url" in changes and changes["url"] != endpoint.url:
        ssrf.check_url(changes["url"])
        endpoint.url = changes["url"]
        fields.append("url")
    if "description" in changes:
        endpoint.description = changes["description"]
        fields.append("description")
    if "events" in changes:
        endpoint.events = _events_check(changes["events"])
        fields.append("events")
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = changes["enabled"]
        if endpoint.enabled:
            endpoint.disabled_reason, endpoint.disabled_at = "", None
            endpoint.consecutive_failures = 0
            fields += ["disabled_reason", "disabled_at", "consecutive_failures"]
        else:
            endpoint.disabled_reason, endpoint.disabled_at = (
                "Disabled by hand.",
                timezone.now(),
            )
            fields += ["disabled_reason", "disabled_at"]
        fields.append("enabled")
    if fields:
        endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, overlap_seconds: float | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the previous one also signs for the overlap window
    (default WEBHOOK_SECRET_OVERLAP_SECONDS), so receivers can switch without losing events.
    Returns the endpoint and the new secret (given out this once)."""
    overlap = conf.secret_overlap_seconds() if overlap_seconds is None else overlap_seconds
    now = timezone.now()
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret if overlap > 0 else ""
        endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap) if overlap else None
        endpoint.secret = secret
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret",
                "previous_secret",
                "previous_secret_expires_at",
                "secret_rotated_at",
                "updated_at",
            ]
        )
    logger.info("webhook endpoint %s: secret rotated (overlap %ss)", endpoint.pk, overlap)
    return endpoint, secret


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `ping` event to the endpoint (sent after commit, retried like any other)."""
    if not endpoint.enabled:
        raise WebhookEndpointDisabled(disabled_reason=endpoint.disabled_reason)
    with transaction.atomic():
        d = WebhookDelivery.objects.create(
            endpoint=endpoint, event=Event.PING, next_attempt_at=timezone.now()
        )
        send_after_commit([d.pk])
    return d


def webhook_delivery_redeliver(*, deliveries) -> int:
    """Send these deliveries again (same webhook-id, same body), with a fresh retry schedule."""
    ids = [d.pk for d in deliveries]
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(pk__in=ids).update(
            status=WebhookDelivery.Status.PENDING,
            attempt_count=0,
            next_attempt_at=timezone.now(),
            claimed_until=None,
        )
        send_after_commit(ids)
    return count
