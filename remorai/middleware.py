"""Under /api/, an error answered outside the API's exception handler is JSON too.

Views answer their errors through remorai.errors.exception_handler. What remains is answered by
Django itself: an exception in a middleware or a non-DRF view (its HTML 500 page, or with
DJANGO_DEBUG=true its technical page), a SuspiciousOperation's 400, CSRF's 403. This outermost
middleware replaces such a body with {"code", "detail"} and keeps the status, so a client of
/api/ never has to parse HTML.
"""

from __future__ import annotations

import json
import sys

from django.core.signals import got_request_exception
from django.http import HttpResponse

from remorai.errors import unexpected_error

API_PREFIX = "/api/"

_CODES = {
    400: ("bad_request", "The request was refused."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("too_large", "The request body is larger than the limit."),
    429: ("throttled", "Too many requests."),
    500: ("internal_error", "An unexpected error occurred; it has been logged."),
    502: ("bad_gateway", "An upstream service answered badly."),
    503: ("service_unavailable", "The service is temporarily unavailable; try again shortly."),
}


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def _error(status: int, exception: BaseException | None) -> tuple[int, dict]:
    """The status and body: Django's 500 for a known cause becomes that cause's error (a
    database down is a 503 `database_unavailable`); any other status is kept."""
    if exception is not None:
        error = unexpected_error(exception)
        if error.status_code == status or status == 500:
            return error.status_code, error.as_dict()
    code, detail = _CODES.get(status, ("error" if status < 500 else "internal_error", ""))
    return status, {"code": code, "detail": detail or f"The request failed ({status})."}


class ApiJsonErrorsMiddleware:
    """First in MIDDLEWARE: every layer below converts its exceptions into responses, so this
    one sees each error as a response, and remembers the exception that made it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response) or response.streaming:
            return response
        status, body = _error(response.status_code, getattr(request, "_api_exception", None))
        replacement = HttpResponse(json.dumps(body), status=status, content_type="application/json")
        for header in ("Retry-After", "Allow", "WWW-Authenticate", "Vary"):
            if header in response:
                replacement[header] = response[header]
        if status == 503 and "Retry-After" not in replacement:
            replacement["Retry-After"] = "5"
        return replacement


def _remember_exception(sender, request=None, **kwargs):
    # Django sends this for every uncaught exception, from a view or a middleware, before its
    # 500 page: remembered so that the JSON body can name the cause (database, storage).
    if request is not None and request.path.startswith(API_PREFIX):
        request._api_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="remorai-api-json-errors")
