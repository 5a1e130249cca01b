"""The stored PDF of a document as a download (the API and the admin answer with the same one)."""

from django.http import FileResponse

from extraction.models import Document


def document_download(document: Document) -> FileResponse:
    """The PDF as an attachment under its original name; nosniff so that no browser reads it as
    anything but a PDF."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
