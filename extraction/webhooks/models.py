"""Webhook endpoints, the delivery outbox and its attempts (registered with the extraction app
through extraction/models.py)."""

import uuid

from django.conf import settings
from django.db import models


class Event(models.TextChoices):
    SUCCEEDED = "extraction.succeeded"
    FAILED = "extraction.failed"
    CANCELLED = "extraction.cancelled"
    NEEDS_REVIEW = "extraction.needs_review"
    PING = "ping"


# The events an endpoint can subscribe to (ping is always sent on request).
SUBSCRIBABLE_EVENTS = [e.value for e in Event if e != Event.PING]


def mask_secret(secret: str) -> str:
    """`whsec_…` plus its last 4 characters: enough to tell two secrets apart, never usable."""
    return f"whsec_…{secret[-4:]}" if secret else ""


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Stored as is (it signs); shown once at creation/rotation, masked everywhere else.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: what the API and the admin show of an endpoint: never the secret itself, only its mask
    SHOWN_FIELDS = (
        "url",
        "description",
        "events",
        "enabled",
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "secret_masked",
        "secret_rotated_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="webhookendpoint_owner")]

    def __str__(self):
        return self.url

    @property
    def secret_masked(self) -> str:
        return mask_secret(self.secret)


class WebhookDelivery(models.Model):
    """One event for one endpoint (the outbox row); its id is the `webhook-id` of every try."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64, choices=Event.choices)
    run = models.ForeignKey(
        "extraction.ExtractionRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_deliveries",
    )
    # The JSON body, frozen at the first try so that every retry sends the same bytes.
    payload = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A send in progress holds the row until then; past it, its worker is presumed dead.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    #: what the API and the admin show of a delivery (besides its ids and payload/attempts)
    SHOWN_FIELDS = (
        "event",
        "run",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint"),
        ]
        permissions = [("redeliver_webhook", "Can redeliver webhook events")]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"{self.status_code or self.error[:40]}"
