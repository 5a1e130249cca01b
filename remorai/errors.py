"""One error hierarchy and one DRF exception handler: every error is {"code", "detail", …}.

Under /api/ that holds for every status: an exception no view expected (the database down, the
file storage failing, a bug) is logged with its traceback and answered as JSON too, whatever
DJANGO_DEBUG says; remorai.middleware.ApiJsonErrorsMiddleware catches what happens outside a view.
"""

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger("django.request")


class ApplicationError(Exception):
    """A failure with a stable machine code, an HTTP status and a message for humans."""

    code = "error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be processed."

    def __init__(self, detail: str | None = None, **fields):
        self.detail = detail or self.default_detail
        self.fields = fields
        super().__init__(self.detail)

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": self.detail, **self.fields}


class Conflict(ApplicationError):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."


class RequestTooLarge(ApplicationError):
    code = "too_large"
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the limit."


class TooManyFields(ApplicationError):
    code = "too_many_fields"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request has too many form fields or files."


class BadRequest(ApplicationError):
    code = "bad_request"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request was refused."


class ServiceUnavailable(ApplicationError):
    """A dependency is down; the same request may succeed later (Retry-After says when)."""

    code = "service_unavailable"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again shortly."
    retry_after = 5


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_detail = "The database is unavailable; try again shortly."


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"
    default_detail = "The file storage is unavailable; try again shortly."


class InternalError(ApplicationError):
    code = "internal_error"
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "An unexpected error occurred; it has been logged."


_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


def _storage_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a runtime dependency
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def unexpected_error(exc: BaseException) -> ApplicationError:
    """The API error answering an exception no view handled (request parsing limits, a
    dependency down, a bug)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(
            f"The request body is larger than the limit of {limit} bytes.", max_bytes=limit
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailable()
    if isinstance(exc, DatabaseError):
        return InternalError()
    if isinstance(exc, _storage_errors()):
        return StorageUnavailable()
    return InternalError()


def error_response(error: ApplicationError) -> Response:
    headers = {}
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    return Response(error.as_dict(), status=error.status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return _unexpected(exc, context)
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):  # a ValidationError not tied to a field
            errors = {"non_field_errors": errors}
        response.data = {"code": code, "detail": "Invalid input.", "errors": errors}
    else:
        detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else exc
        if isinstance(exc, exceptions.NotAuthenticated):
            detail = _how_to_authenticate(context.get("request"))
        response.data = {"code": code, "detail": str(detail)}
    return response


def _how_to_authenticate(request) -> str:
    """No credentials DRF understood: say which header it wants. A header with another scheme
    (`Bearer …`, or the bare key) was ignored, which read as 'not provided'."""
    header = request.META.get("HTTP_AUTHORIZATION", "") if request is not None else ""
    sent = " (the Authorization header sent uses another scheme)" if header.strip() else ""
    return (
        f"Authentication credentials were not provided{sent}: send the API token as "
        "'Authorization: Token <key>', or sign in to the admin for a session."
    )


def _unexpected(exc, context) -> Response:
    error = unexpected_error(exc)
    request = context.get("request")
    path = getattr(request, "path", "?")
    if error.status_code >= 500:
        # Django's own 500 logging never sees an exception a handler answered: log it here.
        logger.error("%s on %s: %s", error.code, path, type(exc).__name__, exc_info=exc)
    else:
        logger.warning("%s on %s: %s", error.code, path, type(exc).__name__)
    set_rollback()
    return error_response(error)


def not_found(request, exception=None):
    """handler404: under /api/ a URL that matches no route (e.g. a malformed id) answers the
    API's JSON error like every other 404; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
