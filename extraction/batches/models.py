"""ExtractionBatch: one provider batch job and its runs (ExtractionRun.batch)."""

from __future__ import annotations

import uuid

from django.db import models


class ExtractionBatch(models.Model):
    """A provider batch job (OpenAI Batch API, Anthropic Message Batches, Gemini batch mode)
    carrying runs of a bulk re-extraction at the batch price.

    submitting -> running -> (cancelling) -> ingesting -> done | expired | failed | cancelled.
    """

    class Status(models.TextChoices):
        SUBMITTING = "submitting"  # the row and its runs exist; the provider job not yet
        RUNNING = "running"  # at the provider, polled with back-off
        CANCELLING = "cancelling"  # every run was cancelled: cancelled at the provider
        INGESTING = "ingesting"  # finished at the provider: results being written
        DONE = "done"
        EXPIRED = "expired"  # not finished in 24 h: its unanswered runs went back to the queue
        FAILED = "failed"  # refused or failed at the provider: its runs went back to the queue
        CANCELLED = "cancelled"

    OPEN_STATUSES = (Status.SUBMITTING, Status.RUNNING, Status.CANCELLING, Status.INGESTING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=16)
    model = models.CharField(max_length=128)
    route = models.CharField(max_length=16, default="direct")
    remote_id = models.CharField(max_length=255, blank=True)
    input_file_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.SUBMITTING, db_index=True
    )
    item_count = models.PositiveIntegerField(default=0)
    succeeded_count = models.PositiveIntegerField(default=0)  # answered in the batch, written
    requeued_count = models.PositiveIntegerField(default=0)  # sent back to the normal queue
    ignored_count = models.PositiveIntegerField(default=0)  # its run cancelled: any answer ignored
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    # What the answered items would have cost at full price, less what they cost.
    savings_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)

    class Meta:
        app_label = "extraction"
        ordering = ["-created_at"]
        verbose_name = "batch job"
        indexes = [models.Index(fields=["status", "next_poll_at"], name="batch_status_poll")]

    def __str__(self):
        return f"{self.provider} batch {self.remote_id or self.pk} ({self.status})"
