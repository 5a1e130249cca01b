"""Document changes other than intake."""

import logging

from django.db import transaction

from extraction.models import Document
from extraction.services.files import remote_copies_of, uploaded_files_delete_remote_later

logger = logging.getLogger(__name__)


def document_delete(*, document: Document) -> None:
    """Delete the document and its runs; the stored file goes once the deletion is committed."""
    storage, name, document_id = document.file.storage, document.file.name, document.id
    with transaction.atomic():
        # Its copies at providers are deleted through their gateways once this is committed.
        remote_copies = remote_copies_of(document=document)
        document.delete()
        if name:
            transaction.on_commit(lambda: _delete_file(storage, name))
        if remote_copies:
            transaction.on_commit(lambda: uploaded_files_delete_remote_later(ids=remote_copies))
    logger.info("document deleted", extra={"document_id": str(document_id)})


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # a leftover file is harmless; a failed request after commit is not
        logger.exception("stored file not deleted", extra={"file": name})
