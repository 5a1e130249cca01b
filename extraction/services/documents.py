"""Document changes other than intake."""

import logging

from django.db import transaction

from extraction.models import Document

logger = logging.getLogger(__name__)


def document_delete(*, document: Document) -> None:
    """Delete the document and its runs; the stored file goes once the deletion is committed."""
    storage, name, document_id = document.file.storage, document.file.name, document.id
    with transaction.atomic():
        document.delete()
        if name:
            transaction.on_commit(lambda: _delete_file(storage, name))
    logger.info("document deleted", extra={"document_id": str(document_id)})


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # a leftover file is harmless; a failed request after commit is not
        logger.exception("stored file not deleted", extra={"file": name})
