"""PDF intake: the one way a PDF becomes a Document (used by the API, the admin and commands)."""

import contextlib
import hashlib
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction

from extraction.errors import EmptyFile, NotPdf, UploadTooLarge
from extraction.models import Document
from extraction.pdfinspect import pdf_inspect
from extraction.verification.einvoice import embedded_invoice_detect

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
SIGNATURE = b"%PDF-"
SIGNATURE_WINDOW = 1024
MAX_NAME_CHARS = 255
MAX_EXTENSION_CHARS = 16
FALLBACK_NAME = "document.pdf"


@dataclass(frozen=True)
class _Spooled:
    path: str
    sha256: str
    size_bytes: int
    head: bytes


def document_ingest(*, owner, upload) -> tuple[Document, bool]:
    """Store an uploaded PDF for `owner` and return (document, created).

    `upload` is a Django File (an UploadedFile from a request, or File(open(path, "rb"))). The
    bytes are streamed — never held whole in memory — to a temporary file while hashing, checked
    (signature, size, pypdf), then copied to storage under a generated key. The same owner sending
    the same bytes gets the existing Document back with created=False. Any rejection raises an
    ApplicationError and leaves nothing behind: no row, no stored file, no temporary file.
    """
    original_name = sanitize_filename(getattr(upload, "name", "") or "")
    spooled = None
    try:
        spooled = _spool(upload)
        if spooled.size_bytes == 0:
            raise EmptyFile()
        if SIGNATURE not in spooled.head:
            raise NotPdf()
        existing = Document.objects.filter(owner=owner, sha256=spooled.sha256).first()
        if existing is not None:
            return existing, False
        start = spooled.head.index(SIGNATURE)
        with open(spooled.path, "rb") as stream:
            info = pdf_inspect(
                stream,
                max_pages=settings.MAX_PDF_PAGES,
                max_objects=settings.MAX_PDF_OBJECTS,
                start=start,
            )
        document = Document(
            id=uuid.uuid4(),
            owner=owner,
            original_name=original_name,
            sha256=spooled.sha256,
            size_bytes=spooled.size_bytes,
            page_count=info.page_count,
            is_encrypted=info.is_encrypted,
            pdf_metadata=info.metadata,
            embedded_invoice=embedded_invoice_detect(spooled.path, start=start),
        )
        with open(spooled.path, "rb") as stream:
            return _store(document, File(stream))
    finally:
        if spooled is not None:
            _unlink(spooled.path)


def _spool(upload) -> _Spooled:
    limit = settings.MAX_UPLOAD_BYTES
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise UploadTooLarge.over(limit)
    digest = hashlib.sha256()
    size = 0
    head = b""
    temp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed and removed by the caller/except
        prefix="remorai-intake-", suffix=".pdf", dir=settings.FILE_UPLOAD_TEMP_DIR, delete=False
    )
    try:
        with temp:
            for chunk in upload.chunks(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge.over(limit)
                if len(head) < SIGNATURE_WINDOW:
                    head = (head + chunk[:SIGNATURE_WINDOW])[:SIGNATURE_WINDOW]
                digest.update(chunk)
                temp.write(chunk)
    except BaseException:
        _unlink(temp.name)
        raise
    return _Spooled(path=temp.name, sha256=digest.hexdigest(), size_bytes=size, head=head)


def _store(document: Document, content: File) -> tuple[Document, bool]:
    # The storage key comes from document_storage_key (the id), never from the client's name.
    document.file.save("upload.pdf", content, save=False)
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError:
        # Another request stored the same bytes for the same owner first: theirs wins.
        _delete_stored(document)
        existing = Document.objects.filter(
            owner_id=document.owner_id, sha256=document.sha256
        ).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        _delete_stored(document)
        raise
    logger.info(
        "document ingested",
        extra={
            "document_id": str(document.id),
            "sha256": document.sha256,
            "size_bytes": document.size_bytes,
            "page_count": document.page_count,
        },
    )
    return document, True


def _delete_stored(document: Document) -> None:
    if document.file.name:
        document.file.storage.delete(document.file.name)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def sanitize_filename(name: str) -> str:
    """The client's file name as safe data: no path, no control characters, at most 255 chars."""
    name = str(name).replace("\\", "/")
    name = name.rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in {"", ".", ".."}:
        return FALLBACK_NAME
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION_CHARS:
            keep = MAX_NAME_CHARS - len(extension) - 1
            name = f"{stem[:keep]}.{extension}"
        else:
            name = name[:MAX_NAME_CHARS]
    return name
