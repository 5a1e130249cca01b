"""Remote copies (UploadedFile) that are no longer needed: deleted at the provider, safely.

A copy is deleted only after one conditional UPDATE (compare-and-set) moved it from the state it
was read in to `deleted` while no queued or running run of its document exists. The provider's
DELETE is called only when that UPDATE changed the row, so a run enqueued between the selection
and the deletion keeps its file.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from extraction.errors import RemoteCopyInUse, RemoteCopyNotDeletable
from extraction.models import ExtractionBatch, ExtractionRun, UploadedFile
from llm.gateways import get_gateway
from remorai.errors import ApplicationError
from remorai.logging import redact

logger = logging.getLogger(__name__)

LIVE_STATES = (UploadedFile.State.ACTIVE, UploadedFile.State.EXPIRED)


@dataclass
class CleanupRow:
    route: str
    provider: str
    remote_id: str
    bytes: int
    reason: str
    outcome: str  # deleted / would_delete / skipped_in_use / error / listing_unavailable
    document_id: str = ""
    detail: str = ""


@dataclass
class CleanupReport:
    dry_run: bool
    rows: list[CleanupRow] = field(default_factory=list)

    def add(self, row: CleanupRow) -> None:
        self.rows.append(row)

    @property
    def acted(self) -> list[CleanupRow]:
        return [r for r in self.rows if r.outcome in ("deleted", "would_delete")]

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.outcome == "error")

    @property
    def files(self) -> int:
        return len(self.acted)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.acted)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "files": self.files,
            "bytes": self.bytes,
            "rows": [asdict(r) for r in self.rows],
        }


def _active_run_exists():
    return Exists(
        ExtractionRun.objects.filter(
            document=OuterRef("document"), status__in=ExtractionRun.ACTIVE_STATUSES
        )
    )


def _claim_for_deletion(uploaded_file: UploadedFile, *, now) -> bool:
    """Compare-and-set: state (as read) -> deleted, only while no active run uses the document."""
    claimed = (
        UploadedFile.objects.filter(pk=uploaded_file.pk, state=uploaded_file.state)
        .filter(~_active_run_exists())
        .update(state=UploadedFile.State.DELETED, deleted_at=now, last_error="")
    )
    if not claimed:
        return False
    # Under PostgreSQL's READ COMMITTED the NOT EXISTS above sees the statement's snapshot: a run
    # committed while the UPDATE ran is missed. Looking again once the row says "deleted" closes
    # that gap: a run that read the copy as active before then is seen here, and gets it back.
    if uploaded_file.document_id is None or not _document_has_active_run(uploaded_file):
        return True
    try:
        with transaction.atomic():
            UploadedFile.objects.filter(
                pk=uploaded_file.pk, state=UploadedFile.State.DELETED
            ).update(state=uploaded_file.state, deleted_at=None)
    except IntegrityError:
        # That run already saw the copy gone and started a new one: nobody uses this one.
        return True
    return False


def _document_has_active_run(uploaded_file: UploadedFile) -> bool:
    return ExtractionRun.objects.filter(
        document_id=uploaded_file.document_id, status__in=ExtractionRun.ACTIVE_STATUSES
    ).exists()


def _delete_at_provider(uploaded_file: UploadedFile) -> None:
    gateway = get_gateway(uploaded_file.route, uploaded_file.provider)
    gateway.delete(uploaded_file.remote_id, model=uploaded_file.model_group)


def _release_after_error(uploaded_file: UploadedFile, previous_state: str, exc: Exception) -> str:
    # The provider still holds the file: put the row back as it was so a later run retries.
    message = redact(f"{type(exc).__name__}: {exc}")[:500]
    UploadedFile.objects.filter(pk=uploaded_file.pk, state=UploadedFile.State.DELETED).update(
        state=previous_state, deleted_at=None, last_error=message
    )
    return message


def uploaded_file_delete_remote(*, uploaded_file: UploadedFile, reason: str = "requested") -> bool:
    """Delete one remote copy at its provider and mark it deleted.

    Raises RemoteCopyInUse when a queued or running run of its document exists (checked in the
    same UPDATE that marks it), RemoteCopyNotDeletable when it is not held remotely.
    """
    if uploaded_file.state not in LIVE_STATES or not uploaded_file.remote_id:
        raise RemoteCopyNotDeletable()
    previous_state = uploaded_file.state
    if not _claim_for_deletion(uploaded_file, now=timezone.now()):
        raise RemoteCopyInUse()
    try:
        _delete_at_provider(uploaded_file)
    except Exception as exc:
        message = _release_after_error(uploaded_file, previous_state, exc)
        logger.warning("remote copy %s not deleted (%s): %s", uploaded_file.pk, reason, message)
        raise ApplicationError(f"The provider refused the deletion: {message}") from exc
    uploaded_file.refresh_from_db()
    logger.info("remote copy %s deleted (%s)", uploaded_file.pk, reason)
    return True


def uploaded_file_reconcile(*, uploaded_file: UploadedFile) -> str:
    """Bring one row in line with the provider: expired when past expiry or no longer listed.

    Returns the row's state afterwards.
    """
    now = timezone.now()
    if uploaded_file.state != UploadedFile.State.ACTIVE:
        return uploaded_file.state
    gone = uploaded_file.expires_at is not None and uploaded_file.expires_at <= now
    if not gone:
        gateway = get_gateway(uploaded_file.route, uploaded_file.provider)
        if gateway.lists_files:
            listed = {f.id: f for f in gateway.list_files()}
            remote = listed.get(uploaded_file.remote_id)
            if remote is None:
                gone = True
            elif remote.expires_at and remote.expires_at != uploaded_file.expires_at:
                UploadedFile.objects.filter(pk=uploaded_file.pk).update(
                    expires_at=remote.expires_at
                )
    if gone:
        UploadedFile.objects.filter(pk=uploaded_file.pk, state=UploadedFile.State.ACTIVE).update(
            state=UploadedFile.State.EXPIRED
        )
    uploaded_file.refresh_from_db()
    return uploaded_file.state


def uploaded_files_needing_cleanup(*, older_than: timedelta | None, expired: bool, now):
    """Selector: copies held remotely that are no longer needed, each annotated with `reason`."""
    held = UploadedFile.objects.filter(state__in=LIVE_STATES).exclude(remote_id="")
    condition = Q(document__isnull=True)
    if older_than is not None:
        condition |= Q(uploaded_at__lt=now - older_than)
    if expired:
        condition |= Q(state=UploadedFile.State.EXPIRED) | Q(expires_at__lte=now)
    return held.filter(condition).order_by("created_at", "pk")


def _reason(uf: UploadedFile, *, older_than, expired, now) -> str:
    if uf.document_id is None:
        return "document deleted"
    if expired and (
        uf.state == UploadedFile.State.EXPIRED or (uf.expires_at and uf.expires_at <= now)
    ):
        return "expired"
    return f"older than {_age(older_than)}"


def _age(age: timedelta) -> str:
    """A duration as --older-than takes it ("7d", "12h"), not timedelta's "7 days, 0:00:00"."""
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def uploaded_file_cleanup(
    *,
    older_than: timedelta | None = None,
    expired: bool = False,
    orphaned: bool = False,
    dry_run: bool = False,
    providers: list[tuple[str, str]] | None = None,
) -> CleanupReport:
    """Delete remote copies no longer needed; never one a queued or running run may use.

    Always covers copies whose document was deleted; `older_than` adds those uploaded before
    now - older_than (retention); `expired` adds those past their expiry. `orphaned` lists files
    at each provider that allows listing and deletes those no UploadedFile knows. `dry_run`
    reports what would be deleted and changes nothing.
    """
    now = timezone.now()
    report = CleanupReport(dry_run=dry_run)
    in_use = set(
        ExtractionRun.objects.filter(status__in=ExtractionRun.ACTIVE_STATUSES).values_list(
            "document_id", flat=True
        )
    )
    candidates = uploaded_files_needing_cleanup(older_than=older_than, expired=expired, now=now)
    for uf in candidates.iterator(chunk_size=500):
        row = CleanupRow(
            route=uf.route,
            provider=uf.provider,
            remote_id=uf.remote_id,
            bytes=uf.bytes,
            reason=_reason(uf, older_than=older_than, expired=expired, now=now),
            outcome="",
            document_id=str(uf.document_id or ""),
        )
        report.add(row)
        if dry_run:
            row.outcome = "skipped_in_use" if uf.document_id in in_use else "would_delete"
            continue
        previous_state = uf.state
        if not _claim_for_deletion(uf, now=now):
            row.outcome = "skipped_in_use"
            continue
        try:
            _delete_at_provider(uf)
        except Exception as exc:
            row.outcome = "error"
            row.detail = _release_after_error(uf, previous_state, exc)
            continue
        row.outcome = "deleted"
    if orphaned:
        _cleanup_orphans(report, dry_run=dry_run, providers=providers)
    return report


def _provider_pairs(providers):
    """(route, provider) to list: every pair a copy was ever held at, and each direct provider
    with an API key configured."""
    if providers is not None:
        return providers
    from llm.secrets import has_api_key

    pairs = set(UploadedFile.objects.values_list("route", "provider").distinct())
    pairs.update(("direct", p) for p in ("openai", "gemini", "anthropic") if has_api_key(p))
    return sorted(pairs)


def _provider_row(route: str, provider: str, outcome: str, detail: str) -> CleanupRow:
    """A row about a provider's orphan collection as a whole (no file)."""
    return CleanupRow(route, provider, "", 0, "orphan", outcome, detail=detail)


def _unknown_files_in_use(route: str, provider: str) -> str:
    """Why files no UploadedFile knows may still be ours and needed ("": they are orphans):
    a file being uploaded right now is not yet known by its id, nor are an open batch job's
    input and result files (deleted once it is collected). The provider is left alone until
    those settle."""
    if UploadedFile.objects.filter(
        route=route, provider=provider, state=UploadedFile.State.UPLOADING
    ).exists():
        return "uploads in progress; orphans not collected this time"
    if ExtractionBatch.objects.filter(
        route=route, provider=provider, status__in=ExtractionBatch.OPEN_STATUSES
    ).exists():
        return "batch jobs open (their input and result files); orphans not collected this time"
    return ""


def _cleanup_orphans(report: CleanupReport, *, dry_run: bool, providers) -> None:
    for route, provider in _provider_pairs(providers):
        try:
            gateway = get_gateway(route, provider)
        except Exception as exc:
            report.add(_provider_row(route, provider, "error", str(exc)))
            continue
        if not gateway.lists_files:
            report.add(
                _provider_row(
                    route,
                    provider,
                    "listing_unavailable",
                    "this provider's API does not allow listing files",
                )
            )
            continue
        busy = _unknown_files_in_use(route, provider)
        if busy:
            report.add(_provider_row(route, provider, "skipped_in_use", busy))
            continue
        known = set(
            UploadedFile.objects.filter(route=route, provider=provider)
            .exclude(state=UploadedFile.State.DELETED)
            .values_list("remote_id", flat=True)
        )
        try:
            held = list(gateway.list_files())
        except Exception as exc:
            detail = redact(f"{type(exc).__name__}: {exc}")[:500]
            report.add(_provider_row(route, provider, "error", detail))
            continue
        for remote in held:
            if remote.id in known:
                continue
            row = CleanupRow(route, provider, remote.id, remote.bytes or 0, "orphan", "")
            report.add(row)
            if dry_run:
                row.outcome = "would_delete"
                continue
            try:
                gateway.delete(remote.id, model="")
            except Exception as exc:
                row.outcome = "error"
                row.detail = redact(f"{type(exc).__name__}: {exc}")[:500]
                continue
            row.outcome = "deleted"
