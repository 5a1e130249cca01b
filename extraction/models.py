"""The extraction domain: documents, their remote copies, profiles, runs and attempts."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def document_storage_key(instance, filename):
    # Keys are generated: the client's filename is kept only as data (Document.original_name).
    return f"documents/{instance.id.hex[:2]}/{instance.id.hex}.pdf"


class Document(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=document_storage_key, max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    page_count = models.PositiveIntegerField()
    is_encrypted = models.BooleanField(default=False)
    pdf_metadata = models.JSONField(default=dict, blank=True)
    # The e-invoice XML the PDF carries (Factur-X / ZUGFeRD / XRechnung / UBL), found at intake:
    # {standard, profile, syntax, filename, guideline}, or null (extraction.verification.einvoice).
    embedded_invoice = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "sha256"], name="document_unique_owner_sha256")
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="document_owner_created")]

    def __str__(self):
        return self.original_name


class Route(models.TextChoices):
    PROXY = "proxy", "LiteLLM proxy"
    DIRECT = "direct", "Direct provider"


class RunRoute(models.TextChoices):
    """How a run was answered: a model through the proxy or directly, or the embedded XML."""

    PROXY = "proxy", "LiteLLM proxy"
    DIRECT = "direct", "Direct provider"
    EMBEDDED = "embedded", "Embedded e-invoice XML"


class Source(models.TextChoices):
    """Where an extraction's answer comes from (the request's `source`)."""

    AUTO = "auto", "Embedded e-invoice when there is one, else the model"
    MODEL = "model", "The model (compared with the embedded e-invoice when there is one)"


class UploadedFile(models.Model):
    """A document's copy at one route and provider (one remote file id)."""

    class State(models.TextChoices):
        UPLOADING = "uploading"
        ACTIVE = "active"
        EXPIRED = "expired"
        DELETED = "deleted"
        FAILED = "failed"

    # SET_NULL, not CASCADE: a deleted document's remote copies stay known until they are
    # deleted at the provider (cleanup finds them by document IS NULL).
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="remote_files"
    )
    route = models.CharField(max_length=16, choices=Route.choices)
    provider = models.CharField(max_length=32)
    model_group = models.CharField(max_length=128, blank=True)
    remote_id = models.CharField(max_length=512, blank=True)
    bytes = models.BigIntegerField(default=0)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADING)
    last_error = models.CharField(max_length=500, blank=True)
    # While uploading: the lease token of the run uploading it. A run waiting for this upload
    # takes over at once when that run no longer holds its lease (its worker died).
    upload_lease = models.UUIDField(null=True, blank=True)
    # A segment's copy (#14): the document's pages "first-last" cut as a sub-PDF; "" = the whole.
    pages = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one live copy per (document, route, provider): the second uploader of the
            # same document waits for the first instead of uploading again.
            models.UniqueConstraint(
                fields=["document", "route", "provider", "pages"],
                condition=Q(state__in=["uploading", "active"]),
                name="uploadedfile_one_live_copy_per_pages",
            )
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="uploadedfile_state_exp")]
        permissions = [
            ("delete_remote_copy", "Can delete a remote copy at the provider"),
            ("reconcile_remote_copy", "Can reconcile remote copies with the provider"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.remote_id or '(pending)'}"


class ExtractionProfile(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    instructions = models.TextField()
    schema = models.JSONField()
    default_model = models.CharField(max_length=128)
    fallback_models = models.JSONField(default=list, blank=True)
    # Names of rules from extraction.verification.checks applied to each succeeded run.
    checks = models.JSONField(default=list, blank=True)
    # Long documents (#14): segmented arrays, other fields, map-reduce (extraction.segmenting).
    segmenting = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: what an edit may change (each change makes a new version); the form and the API show them
    VERSIONED_FIELDS = (
        "name",
        "instructions",
        "schema",
        "default_model",
        "fallback_models",
        "checks",
        "segmenting",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Trigger(models.TextChoices):
    API = "api"
    ADMIN = "admin"
    COMMAND = "command"


class Transport(models.TextChoices):
    FILE = "file", "File id (uploaded once)"
    INLINE = "inline", "Inline base64 (baseline)"


class ExtractionRunQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Fill each run's owner from its document (save() does it one by one)."""
        objs = list(objs)
        missing = {o.document_id for o in objs if o.owner_id is None}
        if missing:
            owners = dict(Document.objects.filter(pk__in=missing).values_list("pk", "owner_id"))
            for run in objs:
                if run.owner_id is None:
                    run.owner_id = owners.get(run.document_id)
        return super().bulk_create(objs, *args, **kwargs)


class ExtractionRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        # In a provider batch job (ExtractionRun.batch), waiting for its answer: collected by
        # the batch poll, or back to "queued" when the batch fails it (#16).
        BATCHED = "batched"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.BATCHED)
    TERMINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="runs")
    # The document's owner, copied: "my runs" is one index range, no join to documents.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the (owner, created_at, id) index serves owner lookups
        editable=False,
    )
    profile = models.ForeignKey(ExtractionProfile, on_delete=models.PROTECT, related_name="runs")
    # Snapshot of the profile as it was when the run was created.
    profile_version = models.PositiveIntegerField()
    instructions = models.TextField()
    schema = models.JSONField()
    segmenting = models.JSONField(default=dict, blank=True)
    requested_model = models.CharField(max_length=128)
    fallback_models = models.JSONField(default=list, blank=True)
    transport = models.CharField(max_length=16, choices=Transport.choices, default=Transport.FILE)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.AUTO)
    model_used = models.CharField(max_length=128, blank=True)
    route = models.CharField(max_length=16, choices=RunRoute.choices, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    result = models.JSONField(null=True, blank=True)
    raw_output = models.TextField(blank=True)
    simulated = models.BooleanField(default=False)
    error_code = models.CharField(max_length=64, blank=True)  # extraction.errors.RunErrorCode
    error_message = models.TextField(blank=True)
    error_provider_code = models.CharField(max_length=128, blank=True)  # the provider's own
    # Things the caller should know that did not fail the run: [{"code", "message"}].
    warnings = models.JSONField(default=list, blank=True)
    # A segmented or map-reduced run (#14): its calls by page range and each item's page.
    segments = models.JSONField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    document_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    # Where cost_usd came from: "proxy" (the proxy's reported cost), "catalog" (our prices),
    # "mixed" (attempts of both), "" (no cost known).
    cost_source = models.CharField(max_length=8, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    lease_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    redo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redos"
    )
    batch = models.ForeignKey(
        "extraction.ExtractionBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
        help_text="The provider batch job carrying the run (re-extraction with --batch): status "
        '"batched" while it waits for the answer (up to 24 h, at the batch price).',
    )
    # Human review: the correction is kept beside the model's output, never over it.
    reviewed_result = models.JSONField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Verification (extraction.verification): evidence per JSON path, its counts
    # {verified, not_found, unverifiable} (null when it could not be computed), the profile's
    # checks [{rule, ok, detail}], and whether a person should look at the result.
    evidence = models.JSONField(null=True, blank=True)
    verification = models.JSONField(null=True, blank=True)
    checks = models.JSONField(default=list, blank=True)
    needs_review = models.BooleanField(default=False, db_index=True)

    objects = ExtractionRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "profile"],
                condition=Q(status__in=["queued", "running", "batched"]),
                name="extractionrun_one_active_per_document_profile",
            )
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="run_status_created"),
            models.Index(fields=["document", "-created_at"], name="run_document_created"),
            models.Index(fields=["owner", "-created_at", "-id"], name="run_owner_created"),
        ]
        permissions = [
            ("reextract_run", "Can re-extract documents (new runs)"),
            ("cancel_run", "Can cancel queued or running runs"),
            ("retry_run", "Can retry failed runs"),
            ("review_run", "Can review and correct run results"),
        ]

    def __str__(self):
        # What the admin's titles and breadcrumbs show: which extraction of which file.
        return f"{self.profile.slug} of {self.document.original_name} ({self.status})"

    def save(self, *args, **kwargs):
        if self.owner_id is None and self.document_id is not None:
            self.owner_id = Document.objects.values_list("owner_id", flat=True).get(
                pk=self.document_id
            )
        super().save(*args, **kwargs)


class ExtractionAttempt(models.Model):
    """One call to one gateway on behalf of a run."""

    run = models.ForeignKey(ExtractionRun, on_delete=models.CASCADE, related_name="attempts")
    route = models.CharField(max_length=16, choices=Route.choices)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    operation = models.CharField(max_length=16, default="generate")  # upload / generate / repair
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=32)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    provider_code = models.CharField(max_length=128, blank=True)  # the provider's own code
    error_message = models.CharField(max_length=500, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    document_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    request_id = models.CharField(max_length=255, blank=True)
    # A call of a segmented run (#14): the document's pages it sent ("11-21"); "" = the document.
    pages = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"{self.route}/{self.model}: {self.outcome}"


class IdempotencyRecord(models.Model):
    """The stored response of a request made with an Idempotency-Key header."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # the hourly purge

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "scope", "key"], name="idempotency_unique")
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"


# Models kept with their feature's package, registered with this app: the stored text layer
# (extraction/verification/), webhooks (extraction/webhooks/) and batch jobs (extraction/batches/).
from extraction.batches.models import ExtractionBatch  # noqa: E402, F401
from extraction.verification.models import DocumentPage, DocumentTextLayer  # noqa: E402, F401
from extraction.webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
