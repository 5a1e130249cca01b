"""The extraction app's error catalogue: every error it raises, and the run error codes.

The API renders each as {"code", "detail", …} (remorai.errors.exception_handler). Not found is
one rule everywhere: the selector (or the admin view) that looks an object up raises Http404,
which the API answers as {"code": "not_found"} — DoesNotExist never crosses a layer.

`RunErrorCode` lists every value a run's `error.code` can take (an enum in the OpenAPI schema,
a table in the README); the provider's own code is kept apart, in `error.provider_code`.
"""

import logging

from django.db import models
from rest_framework import status

from llm.errors import UnknownModel  # one class for both apps: the model catalog is llm's
from remorai.errors import ApplicationError, Conflict

logger = logging.getLogger(__name__)

__all__ = ["UnknownModel"]  # re-exported: extraction code raises it from here


class RunErrorCode(models.TextChoices):
    """Every documented value of a run's `error.code` (README: "Run error codes")."""

    # the request itself
    REQUEST_REJECTED = "request_rejected", "The provider refused the request (4xx)"
    QUOTA_EXCEEDED = "quota_exceeded", "Quota, budget or credit exhausted at the provider"
    UNKNOWN_MODEL = "unknown_model", "The model is not in the catalog"
    MODEL_RETIRED = "model_retired", "The model passed its retirement date while the run waited"
    DOCUMENT_TOO_LARGE_FOR_MODELS = (
        "document_too_large_for_models",
        "The document exceeds every candidate model's limits",
    )
    # the answer
    INVALID_JSON = "invalid_json", "The answer was not JSON, even after one repair turn"
    SCHEMA_VIOLATION = "schema_violation", "The JSON broke the schema, even after one repair turn"
    OUTPUT_TRUNCATED = (
        "output_truncated",
        "The answer was cut off at the output token limit (no repair turn): segment the document",
    )
    INVALID_OUTPUT = "invalid_output", "No valid answer for the schema after one repair turn"
    # reaching a model
    NO_ROUTE_AVAILABLE = "no_route_available", "Every route (proxy, direct, fallbacks) failed"
    ROUTE_UNAVAILABLE = "route_unavailable", "The route could not serve the request"
    PROVIDER_RETRYABLE = "provider_retryable", "Transient provider failures outlasted retries"
    FILE_GONE = "file_gone", "The remote copy vanished again after a fresh upload"
    RETRY_LATER = "retry_later", "The provider asked to wait; the run is queued until not_before"
    LLM_MISCONFIGURED = "llm_misconfigured", "The LLM settings are wrong (e.g. no API key)"
    LLM_ERROR = "llm_error", "Another failure of the language-model call"
    # the run
    CANCELLED = "cancelled", "Cancelled before or while it ran"
    DEADLINE_EXCEEDED = "deadline_exceeded", "The run's time budget ran out"
    TOO_MANY_ATTEMPTS = "too_many_attempts", "Its worker was lost more than the allowed times"
    DOCUMENT_DELETED = "document_deleted", "The document was deleted during the extraction"
    REMOTE_COPY_UNAVAILABLE = (
        "remote_copy_unavailable",
        "The document's remote copy could be neither found nor uploaded in time",
    )
    INTERNAL_ERROR = "internal_error", "An unexpected error on our side"

    @classmethod
    def of(cls, code: str) -> str:
        """`code` if documented, else internal_error (logged: an undocumented code is a bug)."""
        if code in cls.values:
            return code
        logger.error("undocumented run error code %r recorded as internal_error", code)
        return cls.INTERNAL_ERROR.value


# --- intake ------------------------------------------------------------------------------------


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


# --- profiles ----------------------------------------------------------------------------------


class InvalidProfileSchema(ApplicationError):
    code = "invalid_profile_schema"
    default_detail = "The profile's schema is not a valid JSON Schema (Draft 2020-12)."


class InvalidSegmenting(ApplicationError):
    code = "invalid_segmenting"
    default_detail = "The profile's segmenting settings are invalid."


class UnknownCheck(ApplicationError):
    code = "unknown_check"
    status_code = 422
    default_detail = "The profile lists a check that does not exist."


class UnknownProfile(ApplicationError):
    code = "unknown_profile"
    status_code = 422
    default_detail = "No extraction profile has this slug."


# --- runs --------------------------------------------------------------------------------------


class ExtractionInProgress(Conflict):
    code = "extraction_in_progress"
    default_detail = "This document already has a queued or running extraction with this profile."


class ExtractionFinished(Conflict):
    code = "extraction_finished"
    default_detail = "This extraction has already finished."


class InvalidTransport(ApplicationError):
    code = "invalid_transport"
    status_code = 400
    default_detail = 'transport must be "file" or "inline".'


class InvalidSource(ApplicationError):
    code = "invalid_source"
    status_code = 422
    default_detail = 'source must be "auto" or "model".'


class RunNotReviewable(ApplicationError):
    code = "run_not_reviewable"
    status_code = 409
    default_detail = "Only a succeeded run can be reviewed."


class InvalidReview(ApplicationError):
    code = "invalid_review"
    status_code = 422
    default_detail = "The corrected values do not match the run's schema."


# --- remote copies -----------------------------------------------------------------------------


class DocumentGone(ApplicationError):
    code = "document_deleted"
    status_code = 410
    default_detail = "The document was deleted during the extraction."


class RemoteCopyUnavailable(ApplicationError):
    code = "remote_copy_unavailable"
    status_code = 503
    default_detail = "The document's remote copy could neither be found nor uploaded in time."


class RemoteCopyInUse(Conflict):
    code = "remote_copy_in_use"
    default_detail = "This remote copy is used by a queued or running run; it was not deleted."


class RemoteCopyNotDeletable(ApplicationError):
    code = "remote_copy_not_deletable"
    default_detail = "This remote copy is not held at the provider (already deleted or failed)."


# --- idempotency -------------------------------------------------------------------------------


class InvalidIdempotencyKey(ApplicationError):
    code = "invalid_idempotency_key"
    default_detail = "The Idempotency-Key header must be 1 to 255 printable characters."


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
