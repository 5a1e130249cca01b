"""Errors of the extraction domain (rendered by remorai.errors.exception_handler)."""

from rest_framework import status

from remorai.errors import ApplicationError


class FileRequired(ApplicationError):
    code = "file_required"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Send the PDF as a multipart form field named 'file'."


class TooManyFiles(ApplicationError):
    code = "too_many_files"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Send exactly one file per request."


class EmptyFile(ApplicationError):
    code = "empty_file"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The uploaded file is empty."


class NotPdf(ApplicationError):
    code = "not_pdf"
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "The uploaded file is not a PDF (no %PDF- signature in its first 1024 bytes)."


class UploadTooLarge(ApplicationError):
    code = "too_large"
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The uploaded file is larger than the limit."

    @classmethod
    def over(cls, limit: int) -> "UploadTooLarge":
        return cls(f"The file is larger than the limit of {limit} bytes.", max_bytes=limit)


class PdfEncrypted(ApplicationError):
    code = "pdf_encrypted"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The PDF is protected by a password; upload it without the password."


class PdfUnreadable(ApplicationError):
    code = "pdf_unreadable"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The PDF could not be read."


class TooManyPages(ApplicationError):
    code = "too_many_pages"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The PDF has more pages than the limit."
