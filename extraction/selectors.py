"""Reads of the extraction domain: each selector owns its joins (list endpoints never go N+1)."""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from extraction.errors import UnknownProfile
from extraction.models import (
    Document,
    ExtractionAttempt,
    ExtractionProfile,
    ExtractionRun,
)


def profile_list() -> QuerySet[ExtractionProfile]:
    return ExtractionProfile.objects.order_by("slug")


def document_list(*, owner) -> QuerySet[Document]:
    """The owner's documents, newest first (no joins: the list shows only document fields)."""
    return Document.objects.filter(owner=owner).order_by("-created_at", "-id")


def document_get(*, owner, document_id) -> Document:
    """The owner's document with this id; anyone else's does not exist for them (Http404)."""
    document = Document.objects.filter(owner=owner, id=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return document


# The columns a list page shows (ExtractionRunSerializer), nothing else: a page of 50 decoding
# each run's and its profile's instructions, schemas and raw output cost more than the rest of
# the request, and building each row from ~30 unused columns was still a large part of it.
LIST_COLUMNS = (
    "id",
    "document_id",
    "profile_id",
    "profile__slug",
    "profile_version",
    "status",
    "result",
    "error_code",
    "error_provider_code",
    "error_message",
    "requested_model",
    "fallback_models",
    "model_used",
    "route",
    "transport",
    "source",
    "warnings",
    "input_tokens",
    "output_tokens",
    "document_tokens",
    "cost_usd",
    "cost_source",
    "simulated",
    "attempt_count",
    "cancel_requested",
    "trigger",
    "redo_of_id",
    "batch_id",
    "created_at",
    "queued_at",
    "started_at",
    "finished_at",
    "not_before",
    "heartbeat_at",
    "verification",
    "needs_review",
)


class RunListRow(SimpleNamespace):
    """A run of a list page: its LIST_COLUMNS as attributes (`pk`, `profile.slug` too), read
    with values(); building ExtractionRun instances was the largest part of a page."""

    def __init__(self, row: dict):
        super().__init__(**row, pk=row["id"], profile=SimpleNamespace(slug=row["profile__slug"]))


def extraction_run_list_rows(runs: QuerySet[ExtractionRun]) -> list[RunListRow]:
    """A page of extraction_run_list() as RunListRow (ExtractionRunSerializer reads either),
    with the queryset's annotations (the paginator's capped count) as attributes too."""
    return [RunListRow(row) for row in runs.values(*LIST_COLUMNS, *runs.query.annotations)]


def extraction_run_list(*, owner, document: Document | None = None) -> QuerySet[ExtractionRun]:
    runs = (
        ExtractionRun.objects.filter(owner=owner)
        .select_related("profile")  # (not an annotation: COUNT(*) would keep its join)
        .only(*LIST_COLUMNS)
    )
    if document is not None:
        runs = runs.filter(document=document)
    return runs.order_by("-created_at", "-pk")


def extraction_run_get(*, owner, run_id) -> ExtractionRun:
    """One run with its attempts; anyone else's does not exist for them (Http404)."""
    run = (
        ExtractionRun.objects.filter(owner=owner, pk=run_id)
        .select_related("profile", "document", "reviewer")
        .prefetch_related(
            Prefetch("attempts", queryset=ExtractionAttempt.objects.order_by("started_at", "id"))
        )
        .first()
    )
    if run is None:
        raise Http404("No such run.")
    return run


def profile_get(*, slug: str) -> ExtractionProfile:
    """The profile a request names by slug; UnknownProfile (422: bad input, not a 404)."""
    profile = ExtractionProfile.objects.filter(slug=slug).first()
    if profile is None:
        raise UnknownProfile(profile=slug)
    return profile


def oldest_queued_run_age_seconds() -> float | None:
    """Age of the oldest run waiting to start (None when none is due)."""
    now = timezone.now()
    oldest = (
        ExtractionRun.objects.filter(status=ExtractionRun.Status.QUEUED)
        .exclude(not_before__gt=now)
        .aggregate(oldest=Min("queued_at"))["oldest"]
    )
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


def run_previous_succeeded(*, run: ExtractionRun) -> ExtractionRun | None:
    """The run the admin compares `run` with: the latest succeeded run of the same document and
    profile created before it (None for the first one)."""
    earlier = Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, pk__lt=run.pk)
    return (
        ExtractionRun.objects.filter(
            earlier,
            document_id=run.document_id,
            profile_id=run.profile_id,
            status=ExtractionRun.Status.SUCCEEDED,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
