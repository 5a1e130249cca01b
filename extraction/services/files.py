"""Remote copies of documents (UploadedFile): the FileCache the LLM layer uploads through.

One live copy per (document, route, provider), enforced by a partial unique constraint: the
first run that needs a copy inserts an `uploading` row and uploads; a second run needing the same
copy meanwhile fails to insert, and polls until the first one's row turns active (or failed).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from extraction import conf
from extraction.errors import DocumentGone, RemoteCopyUnavailable
from extraction.models import Document, UploadedFile
from llm.gateways import get_gateway
from llm.types import RemoteFile
from remorai.logging import redact

logger = logging.getLogger(__name__)

State = UploadedFile.State


class DocumentFileCache:
    """The llm.service FileCache for one document, or for one page range of it (a segment's
    sub-PDF, `pages` "first-last": its own remote copies, uploaded once and reused the same way)."""

    def __init__(self, document: Document, *, lease=None, pages: str = ""):
        self.document = document
        self.lease = lease  # the uploading run's lease token, recorded on `uploading` rows
        self.pages = pages

    def _live(self, *, route: str, provider: str) -> UploadedFile | None:
        return (
            UploadedFile.objects.filter(
                document=self.document,
                route=route,
                provider=provider,
                pages=self.pages,
                state__in=[State.UPLOADING, State.ACTIVE],
            )
            .order_by("-created_at")
            .first()
        )

    def get_or_upload(
        self,
        *,
        route: str,
        provider: str,
        model: str,
        upload: Callable[[], RemoteFile],
        db: Callable | None = None,
    ) -> RemoteFile:
        """The live remote copy, else this caller's upload of it (waiting for another run's).

        `db(fn, **kwargs)` runs each step that reads or writes the database (default: here); a
        segment's worker thread hands them to its run's thread, and uploads itself (#14)."""
        db = db or _here
        give_up = time.monotonic() + 2 * conf.upload_wait_seconds() + 60
        while True:
            if time.monotonic() > give_up:  # never loop forever, whatever the database says
                raise RemoteCopyUnavailable(route=route, provider=provider)
            found = db(self._look, route=route, provider=provider, model=model)
            if isinstance(found, RemoteFile):
                return found
            if isinstance(found, UploadedFile):  # claimed: ours to upload
                return self._upload(found, upload, db)
            if found is _WAIT:
                time.sleep(conf.upload_poll_seconds())

    def _look(self, *, route: str, provider: str, model: str):
        """One look at the copies: the live one (RemoteFile), a row this caller claimed and must
        upload, _WAIT (another run is uploading it) or _AGAIN."""
        row = self._live(route=route, provider=provider)
        if row is None:
            row = self._claim_upload(route=route, provider=provider, model=model)
            return row if row is not None else _AGAIN
        now = timezone.now()
        if row.state == State.ACTIVE:
            margin = timedelta(seconds=conf.remote_file_margin_seconds())
            if row.expires_at is None or row.expires_at > now + margin:
                return RemoteFile(id=row.remote_id, bytes=row.bytes, expires_at=row.expires_at)
            UploadedFile.objects.filter(pk=row.pk, state=State.ACTIVE).update(state=State.EXPIRED)
            return _AGAIN
        # Someone else is uploading it: wait, unless that upload is abandoned (its run lost its
        # lease: the worker died; or, with no run known, it is too old), in which case it is
        # marked failed and this run uploads.
        if self._abandoned(row, now):
            UploadedFile.objects.filter(pk=row.pk, state=State.UPLOADING).update(
                state=State.FAILED, last_error="upload abandoned"
            )
            return _AGAIN
        return _WAIT

    @staticmethod
    def _abandoned(row: UploadedFile, now) -> bool:
        from extraction.models import ExtractionRun

        if row.upload_lease is not None:
            return not ExtractionRun.objects.filter(
                lease_token=row.upload_lease, status=ExtractionRun.Status.RUNNING
            ).exists()
        return row.created_at < now - timedelta(seconds=conf.upload_wait_seconds())

    def _claim_upload(self, *, route: str, provider: str, model: str) -> UploadedFile | None:
        if not Document.objects.filter(pk=self.document.pk).exists():
            raise DocumentGone()
        try:
            with transaction.atomic():
                return UploadedFile.objects.create(
                    document=self.document,
                    route=route,
                    provider=provider,
                    model_group=model,
                    pages=self.pages,
                    state=State.UPLOADING,
                    upload_lease=self.lease,
                )
        except IntegrityError:
            if not Document.objects.filter(pk=self.document.pk).exists():
                raise DocumentGone() from None
            return None  # another run inserted its row first

    def _upload(self, row: UploadedFile, upload: Callable[[], RemoteFile], db) -> RemoteFile:
        try:
            remote = upload()
        except BaseException as exc:
            db(_upload_failed, row=row, error=redact(f"{type(exc).__name__}: {exc}")[:500])
            raise
        db(_uploaded, row=row, remote=remote)
        return remote

    def mark_gone(self, *, route: str, provider: str, remote_id: str) -> None:
        UploadedFile.objects.filter(
            document=self.document,
            route=route,
            provider=provider,
            remote_id=remote_id,
            pages=self.pages,
            state=State.ACTIVE,
        ).update(state=State.EXPIRED)


_WAIT, _AGAIN = object(), object()


def _here(fn: Callable, **kwargs):
    return fn(**kwargs)


def _upload_failed(*, row: UploadedFile, error: str) -> None:
    UploadedFile.objects.filter(pk=row.pk).update(state=State.FAILED, last_error=error)


def _uploaded(*, row: UploadedFile, remote: RemoteFile) -> None:
    UploadedFile.objects.filter(pk=row.pk).update(
        state=State.ACTIVE,
        remote_id=remote.id,
        bytes=remote.bytes,
        uploaded_at=timezone.now(),
        expires_at=remote.expires_at,
        upload_lease=None,
    )


@contextmanager
def document_local_path(document: Document) -> Iterator[Path]:
    """The document's file as a local path (S3 and other remote storages: a temporary copy)."""
    try:
        local = Path(document.file.path)
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="remorai-doc-") as tmp:
        target = Path(tmp) / "document.pdf"
        with document.file.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, length=1024 * 1024)
        yield target


def uploaded_files_delete_remote(*, ids: list[int]) -> int:
    """Delete these remote copies at their providers; returns how many are now deleted."""
    deleted = 0
    for row in UploadedFile.objects.filter(pk__in=ids, state__in=[State.ACTIVE, State.EXPIRED]):
        try:
            if row.remote_id:
                get_gateway(row.route, row.provider).delete(row.remote_id, model=row.model_group)
        except Exception as exc:  # noqa: BLE001 - kept for a later cleanup, never fatal here
            logger.warning("remote copy %s not deleted: %s", row.pk, redact(str(exc)))
            UploadedFile.objects.filter(pk=row.pk).update(last_error=redact(str(exc))[:500])
            continue
        UploadedFile.objects.filter(pk=row.pk).update(
            state=State.DELETED, deleted_at=timezone.now()
        )
        deleted += 1
    return deleted


def remote_copies_of(*, document: Document) -> list[int]:
    """Ids of the document's remote copies that exist at a provider (to delete with it).

    An upload in flight has no id yet; its row outlives the document (document set to NULL)
    and the cleanup deletes it later.
    """
    return list(
        UploadedFile.objects.filter(
            document=document, state__in=[State.ACTIVE, State.EXPIRED]
        ).values_list("pk", flat=True)
    )


def uploaded_files_delete_remote_later(*, ids: list[int]) -> None:
    """Enqueue the deletion of these remote copies (call it after commit)."""
    from extraction import queue

    queue.enqueue_remote_delete(list(ids))
