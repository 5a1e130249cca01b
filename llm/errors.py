"""Errors of the LLM layer. The policy decides by class: retry, fall back, or fail at once.

- RetryableError: timeouts, connection errors, 408/409/429/5xx/529 — retried on the same route.
- RouteUnavailable: this route cannot serve now (after its retries, or misconfigured): fall back.
- RequestRejected: the request itself is refused (400/401/403/413/422, quota/budget): fail, no
  fallback, no retry.
- BadOutput: the model answered, but not with valid JSON for the schema (InvalidJson,
  SchemaViolation, OutputTruncated: which way).
- FileGone: the remote file id is no longer known (404, Gemini's 403 after expiry): re-upload once.
- RetryLater: the provider asks us to wait longer than we are willing to sleep in a worker.

`code` is always the class's own (one of the documented run error codes, see
extraction/errors.py); the provider's own error code, when it gave one, is `provider_code`, and
a finer reason of our own (e.g. "timeout", "output_truncated") is `reason`.
"""

from __future__ import annotations

from datetime import datetime

from remorai.errors import ApplicationError


class LLMError(ApplicationError):
    code = "llm_error"
    status_code = 502
    default_detail = "The language model call failed."
    #: every call made before this error was raised (set by llm.service.extract)
    attempts: tuple = ()

    def __init__(
        self,
        detail: str | None = None,
        *,
        http_status: int | None = None,
        provider_code: str = "",
        reason: str = "",
        retry_after: float | None = None,
        request_id: str = "",
        **fields,
    ):
        super().__init__(detail, **fields)
        self.http_status = http_status
        self.provider_code = provider_code or ""
        self.reason = reason or ""
        self.retry_after = retry_after
        self.request_id = request_id


class RetryableError(LLMError):
    code = "provider_retryable"


class RouteUnavailable(LLMError):
    code = "route_unavailable"
    status_code = 503


class RequestRejected(LLMError):
    code = "request_rejected"
    status_code = 422


class QuotaExceeded(RequestRejected):
    code = "quota_exceeded"
    status_code = 429


class BadOutput(LLMError):
    code = "invalid_output"

    def __init__(self, detail: str | None = None, *, raw_text: str = "", errors=(), **kwargs):
        super().__init__(detail, **kwargs)
        self.raw_text = raw_text
        self.errors = list(errors)


class InvalidJson(BadOutput):
    code = "invalid_json"


class SchemaViolation(BadOutput):
    code = "schema_violation"


class OutputTruncated(BadOutput):
    """Cut at the output token limit (finish reason length / max_tokens / MAX_TOKENS): never
    accepted as complete and never repaired (llm.service.truncated_error)."""

    code = "output_truncated"


class FileGone(LLMError):
    code = "file_gone"
    status_code = 410


class RetryLater(LLMError):
    code = "retry_later"
    status_code = 503

    def __init__(self, detail: str | None = None, *, at: datetime, **kwargs):
        super().__init__(detail, **kwargs)
        self.at = at


class NoRouteFits(LLMError):
    code = "document_too_large_for_models"
    status_code = 422


class NoRouteAvailable(LLMError):
    code = "no_route_available"
    status_code = 503


class UnknownModel(RequestRejected):
    code = "unknown_model"
    status_code = 422
    default_detail = "This model is not in the model catalog."


class Cancelled(LLMError):
    """The caller's should_continue() said stop (e.g. the run was cancelled)."""

    code = "cancelled"
    status_code = 409


class DeadlineExceeded(LLMError):
    code = "deadline_exceeded"
    status_code = 504


class ConfigurationError(LLMError):
    code = "llm_misconfigured"
    status_code = 500


class ModelRetired(RequestRejected):
    """The model is past its retires_on date: it is never called (fields: model, replacement)."""

    code = "model_retired"
    status_code = 422
