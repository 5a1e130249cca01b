"""What every gateway shares: timeouts, the wait a provider asks for, HTTP error → llm.errors.

The table (the policy dispatches on the class; see llm/errors.py):

- quota or budget refusals (`insufficient_quota`, `budget_exceeded`, Anthropic's "credit balance
  is too low", Gemini's daily quota or a quota failure with no retry delay) → QuotaExceeded,
  whatever the status;
- 404 on a file id, Gemini's 403 on an expired file → FileGone;
- proxy: 400 "Invalid model name", 400 `no_db_connection`, 401/403 → RouteUnavailable (the proxy is
  misconfigured for us, not the request wrong: fall back, logged loudly);
- direct: 401/403, Gemini's 400 API_KEY_INVALID → RouteUnavailable; 404 without a file →
  RouteUnavailable (unknown model);
- 408/409/429/5xx/529, timeouts, connection errors → RetryableError with `retry_after`;
- any other 4xx (400/403/413/422/…) → RequestRejected.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

from llm.conf import conf
from llm.errors import (
    FileGone,
    LLMError,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RouteUnavailable,
)
from remorai.logging import redact

logger = logging.getLogger("llm.gateways")

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})
QUOTA_CODES = frozenset({"insufficient_quota", "budget_exceeded"})
_QUOTA_PHRASES = (
    "insufficient_quota",
    "budget_exceeded",
    "budget has been exceeded",
    "credit balance is too low",  # Anthropic's billing refusal
)
_PROXY_MISCONFIGURED_PHRASES = (
    "invalid model name",
    "no_db_connection",
    "no deployments available",
    "llm provider not provided",
)
_FILE_GONE_PHRASES = re.compile(
    r"file\b.*\b(not found|does not exist|no longer|expired|not exist|permission)", re.I | re.S
)
_RETRY_DELAY_IN_TEXT = re.compile(r'"?retryDelay"?\s*[:=]\s*"?(\d+(?:\.\d+)?)s', re.I)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")


def timeout_for(request_timeout: float | None = None) -> httpx.Timeout:
    """The per-call timeout: the request's own, else LLM_TIMEOUT_SECONDS; connect is separate."""
    total = request_timeout or conf.LLM_TIMEOUT_SECONDS
    connect = min(conf.LLM_CONNECT_TIMEOUT_SECONDS, total)
    return httpx.Timeout(total, connect=connect)


# --- how long the provider asks us to wait ----------------------------------------------------


def parse_duration(value: Any) -> float | None:
    """Seconds from "17s", "1.5s", "17", or a protobuf Duration {"seconds": 17, "nanos": …}."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        try:
            return float(value.get("seconds") or 0) + float(value.get("nanos") or 0) / 1e9
        except (TypeError, ValueError):
            return None
    match = _DURATION.match(str(value))
    return float(match.group(1)) if match else None


def _seconds_or_date(value: str | None, *, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _milliseconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value) / 1000) if value else None
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], body: Any = None, *, now: float | None = None):
    """The wait (seconds) a response asks for, or None.

    In order: `retry-after-ms`, `Retry-After` (seconds or an HTTP date), the upstream's
    `llm_provider-retry-after-ms` / `llm_provider-retry-after` forwarded by LiteLLM, Gemini's
    `error.details[].retryDelay`, and a `retryDelay` quoted inside an error message (LiteLLM
    passes Gemini's error body on as text).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    for value in (
        _milliseconds(lower.get("retry-after-ms")),
        _seconds_or_date(lower.get("retry-after"), now=now),
        _milliseconds(lower.get("llm_provider-retry-after-ms")),
        _seconds_or_date(lower.get("llm_provider-retry-after"), now=now),
    ):
        if value is not None:
            return value
    error = _error_object(body)
    for detail in error.get("details") or ():
        if isinstance(detail, Mapping) and "retryDelay" in detail:
            value = parse_duration(detail["retryDelay"])
            if value is not None:
                return value
    match = _RETRY_DELAY_IN_TEXT.search(str(error.get("message") or ""))
    return float(match.group(1)) if match else None


# --- reading error bodies ---------------------------------------------------------------------


def parse_body(content: bytes | str | None) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        return text[:2000]


def _error_object(body: Any) -> dict:
    """The `error` object of an OpenAI/LiteLLM, Gemini or Anthropic error body ({} if none)."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return dict(error)
        if isinstance(error, str):
            return {"message": error}
        if "detail" in body:  # FastAPI-style errors from the proxy itself
            return {"message": str(body["detail"])}
    if isinstance(body, str):
        return {"message": body}
    return {}


def error_message(body: Any) -> str:
    message = _error_object(body).get("message") or ""
    return str(message)[:500]


def provider_code(body: Any) -> str:
    """The provider's own error code: `code`/`type` (OpenAI, LiteLLM, Anthropic) or `status`
    (Gemini's "RESOURCE_EXHAUSTED"). Numeric codes (LiteLLM's "429") are skipped."""
    error = _error_object(body)
    for key in ("code", "type", "status"):
        value = error.get(key)
        if isinstance(value, str) and value and not value.isdigit() and value != "None":
            return value
    return ""


def _gemini_quota_exhausted(error: Mapping) -> bool:
    """Gemini's 429 RESOURCE_EXHAUSTED says "You exceeded your current quota" for per-minute
    rate limits too, so only its details decide: a daily quota violated is a quota refusal; a
    per-minute one, or a retry delay, is a rate limit; other quota failures with no delay are
    refusals."""
    details = [d for d in error.get("details") or () if isinstance(d, Mapping)]
    violations = [v for d in details for v in d.get("violations") or () if isinstance(v, Mapping)]
    quota_ids = [str(v.get("quotaId", "")).lower() for v in violations]
    if any("perday" in q for q in quota_ids):
        return True
    if any("perminute" in q for q in quota_ids) or any("retryDelay" in d for d in details):
        return False
    return bool(violations)


def _is_quota(body: Any, code: str, wait: float | None) -> bool:
    error = _error_object(body)
    if code in QUOTA_CODES or any(str(error.get(k) or "") in QUOTA_CODES for k in ("code", "type")):
        return True
    if str(error.get("status") or "") == "RESOURCE_EXHAUSTED":
        return _gemini_quota_exhausted(error)
    message = str(error.get("message") or "").lower()
    if any(phrase in message for phrase in _QUOTA_PHRASES) or "perday" in message:
        return True
    # OpenAI's insufficient_quota message, passed on as text by the proxy (Gemini's rate limits
    # say the same words but come with a wait or a per-minute quota id).
    return "exceeded your current quota" in message and wait is None and "perminute" not in message


def _key_invalid(body: Any) -> bool:
    """Gemini answers a bad key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID."""
    error = _error_object(body)
    reasons = {
        str(d.get("reason") or "") for d in error.get("details") or () if isinstance(d, Mapping)
    }
    message = str(error.get("message") or "").lower()
    return "API_KEY_INVALID" in reasons or "api key not valid" in message


def _about_the_model(code: str, lowered_message: str) -> bool:
    """A 404 that names the model, not the file (OpenAI's model_not_found)."""
    return code == "model_not_found" or (
        "model" in lowered_message and "file" not in lowered_message
    )


# --- the table ---------------------------------------------------------------------------------


def error_from_response(status: int, headers: Mapping[str, str], body: Any, **kwargs) -> LLMError:
    """The llm.errors instance for an HTTP error answer (see the module docstring's table),
    marked `simulated` when the provider simulator gave it."""
    from llm.gateways.payload import simulated

    error = _error_from_response(status, headers, body, **kwargs)
    error.simulated = simulated(headers or {})
    return error


def _error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    route: str,
    provider: str,
    file_id: str | None = None,
    request_id: str = "",
    now: float | None = None,
) -> LLMError:
    """`route` is "proxy" or "direct"; `file_id` is the remote file the call referred to, if any
    (a 404 then means the file is gone, not the endpoint).
    """
    code = provider_code(body)
    message = redact(error_message(body))  # providers echo keys back in auth errors
    wait = retry_after(headers, body, now=now)
    where = "LiteLLM proxy" if route == "proxy" else provider
    detail = (
        f"{where} answered {status}"
        + (f" {code}" if code else "")
        + (f": {message}" if message else ".")
    )
    kwargs = {"http_status": status, "retry_after": wait, "request_id": request_id}
    if code:
        kwargs["provider_code"] = code
    lowered = message.lower()

    if _is_quota(body, code, wait):
        return QuotaExceeded(detail, **kwargs)
    if file_id and (
        (status == 404 and not _about_the_model(code, lowered))
        or (status in (400, 403) and (file_id in message or _FILE_GONE_PHRASES.search(message)))
    ):
        return FileGone(detail, **kwargs)
    if route == "proxy" and (
        status in (401, 403)
        or (status == 400 and any(p in lowered or p == code for p in _PROXY_MISCONFIGURED_PHRASES))
    ):
        logger.error(
            "LiteLLM proxy is misconfigured for this request (HTTP %s %s): %s. Falling back.",
            status,
            code,
            message,
        )
        return RouteUnavailable(detail, **kwargs)
    if status == 400 and _key_invalid(body):
        logger.error("%s refused the API key (HTTP 400): %s", where, message)
        return RouteUnavailable(detail, **kwargs)
    if route == "direct" and status in (401, 403):
        logger.error("%s refused our key (HTTP %s %s): %s", provider, status, code, message)
        return RouteUnavailable(detail, **kwargs)
    if status == 404:
        return RouteUnavailable(detail, **kwargs)
    if status in RETRYABLE_STATUSES or status >= 500:
        return RetryableError(detail, **kwargs)
    return RequestRejected(detail, **kwargs)


def error_from_httpx(response: httpx.Response, *, route: str, provider: str, **kwargs) -> LLMError:
    return error_from_response(
        response.status_code,
        response.headers,
        parse_body(response.content),
        route=route,
        provider=provider,
        **kwargs,
    )


def transport_error(exc: Exception, *, route: str, provider: str) -> RetryableError:
    """A timeout or a connection failure (any HTTP library): retryable, no status."""
    name = type(exc).__name__
    is_timeout = "timeout" in name.lower() or isinstance(exc, TimeoutError)
    where = "LiteLLM proxy" if route == "proxy" else provider
    what = "timed out" if is_timeout else f"could not be reached ({name})"
    return RetryableError(
        f"{where} {what}.", reason="timeout" if is_timeout else "connection_error"
    )
