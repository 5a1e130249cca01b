"""The HTTP error → llm.errors table every gateway shares, and the wait parsing."""

import email.utils
import logging

import pytest

from llm.errors import (
    FileGone,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RouteUnavailable,
)
from llm.gateways.http import error_from_response, parse_duration, retry_after, transport_error

NOW = 1_800_000_000.0


def openai_error(message="boom", type_="invalid_request_error", code=None):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def litellm_error(message, type_="None", code="400"):
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def gemini_error(code, status, message="", details=()):
    return {"error": {"code": code, "status": status, "message": message, "details": list(details)}}


def anthropic_error(type_, message="x"):
    return {"type": "error", "error": {"type": type_, "message": message}}


GEMINI_RETRY = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}
GEMINI_MINUTE_QUOTA = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}],
}
GEMINI_DAY_QUOTA = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
}

GEMINI_QUOTA_TEXT = "You exceeded your current quota, please check your plan and billing details."

KEY_INVALID = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}

TABLE = [
    # (route, status, body, file_id, expected class)
    ("proxy", 400, openai_error("Bad schema"), None, RequestRejected),
    ("proxy", 400, litellm_error("/chat/completions: Invalid model name passed in model=x"), None,
     RouteUnavailable),
    ("proxy", 400, litellm_error("No connected db.", type_="no_db_connection"), None,
     RouteUnavailable),
    ("proxy", 401, litellm_error("Authentication Error", code="401"), None, RouteUnavailable),
    ("proxy", 403, litellm_error("team not allowed", code="403"), None, RouteUnavailable),
    ("proxy", 400, litellm_error("Budget has been exceeded!", type_="budget_exceeded"), None,
     QuotaExceeded),
    ("proxy", 429, litellm_error("litellm.RateLimitError: You exceeded your current quota",
                                 type_="throttling_error", code="429"), None, QuotaExceeded),
    ("proxy", 429, litellm_error("rate limited", type_="throttling_error", code="429"), None,
     RetryableError),
    ("proxy", 408, litellm_error("Request timed out", code="408"), None, RetryableError),
    ("proxy", 500, litellm_error("upstream down", code="500"), None, RetryableError),
    ("proxy", 404, litellm_error("File not found", code="404"), "file-abc", FileGone),
    ("proxy", 404, litellm_error("no such route", code="404"), None, RouteUnavailable),
    ("proxy", 413, "Request Entity Too Large", None, RequestRejected),
    ("proxy", 422, {"detail": [{"msg": "field required"}]}, None, RequestRejected),
    ("direct", 400, openai_error("Invalid schema for response_format"), None, RequestRejected),
    ("direct", 401, openai_error("Incorrect API key", code="invalid_api_key"), None,
     RouteUnavailable),
    ("direct", 403, gemini_error(403, "PERMISSION_DENIED", "API key not valid"), None,
     RouteUnavailable),
    ("direct", 403, gemini_error(
        403, "PERMISSION_DENIED",
        "You do not have permission to access the File abc123 or it may not exist."),
     "files/abc123", FileGone),
    ("direct", 404, openai_error("No such File object: file-1", code=None), "file-1", FileGone),
    ("direct", 404, openai_error("The model `gpt-9` does not exist", code="model_not_found"),
     None, RouteUnavailable),
    ("direct", 404, openai_error("The model `gpt-9` does not exist", code="model_not_found"),
     "file-1", RouteUnavailable),
    ("proxy", 404, litellm_error("litellm.NotFoundError: The model `gpt-9` does not exist",
                                 code="404"), "file-1", RouteUnavailable),
    ("direct", 409, openai_error("conflict"), None, RetryableError),
    ("direct", 413, anthropic_error("request_too_large"), None, RequestRejected),
    ("direct", 422, openai_error("unprocessable"), None, RequestRejected),
    ("direct", 429, openai_error("You exceeded your current quota", "insufficient_quota",
                                 "insufficient_quota"), None, QuotaExceeded),
    ("direct", 429, openai_error("Rate limit reached", "requests", "rate_limit_exceeded"), None,
     RetryableError),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", "slow down",
                                 [GEMINI_MINUTE_QUOTA, GEMINI_RETRY]), None, RetryableError),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", "daily quota",
                                 [GEMINI_DAY_QUOTA, GEMINI_RETRY]), None, QuotaExceeded),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", GEMINI_QUOTA_TEXT,
                                 [GEMINI_MINUTE_QUOTA]), None, RetryableError),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", GEMINI_QUOTA_TEXT,
                                 [GEMINI_DAY_QUOTA]), None, QuotaExceeded),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", "quota",
                                 [{"@type": "x.QuotaFailure", "violations": [{"quotaId": "q"}]}]),
     None, QuotaExceeded),
    ("proxy", 429, litellm_error("GeminiException - " + GEMINI_QUOTA_TEXT + ' "retryDelay": "9s"',
                                 type_="throttling_error", code="429"), None, RetryableError),
    ("direct", 400, gemini_error(400, "INVALID_ARGUMENT", "API key not valid.", [KEY_INVALID]),
     None, RouteUnavailable),
    ("direct", 429, anthropic_error("rate_limit_error"), None, RetryableError),
    ("direct", 400, anthropic_error("invalid_request_error", "Your credit balance is too low to "
                                    "access the Anthropic API."), None, QuotaExceeded),
    ("direct", 500, anthropic_error("api_error"), None, RetryableError),
    ("direct", 502, "<html>Bad gateway</html>", None, RetryableError),
    ("direct", 503, gemini_error(503, "UNAVAILABLE", "overloaded"), None, RetryableError),
    ("direct", 529, anthropic_error("overloaded_error"), None, RetryableError),
]  # fmt: skip


@pytest.mark.parametrize(("route", "status", "body", "file_id", "expected"), TABLE)
def test_error_table_maps_each_status_and_body_to_its_class(route, status, body, file_id, expected):
    exc = error_from_response(status, {}, body, route=route, provider="openai", file_id=file_id)
    assert type(exc) is expected
    assert exc.http_status == status
    assert exc.code == expected.code  # the class's documented code, never the provider's


def test_error_carries_provider_code_and_message_but_no_numeric_code():
    exc = error_from_response(
        429,
        {},
        openai_error("Rate limit reached", "requests", "rate_limit_exceeded"),
        route="direct",
        provider="openai",
    )
    assert exc.code == RetryableError.code and exc.provider_code == "rate_limit_exceeded"
    assert "Rate limit reached" in exc.detail
    litellm = error_from_response(
        500, {}, litellm_error("x", type_=None, code="500"), route="proxy", provider="litellm"
    )
    assert litellm.code == RetryableError.code


def test_proxy_misconfiguration_is_logged_loudly(caplog):
    with caplog.at_level(logging.ERROR, logger="llm.gateways"):
        error_from_response(
            400, {}, litellm_error("Invalid model name passed in model=x"), route="proxy",
            provider="litellm",
        )  # fmt: skip
    assert any("misconfigured" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "2"}, None, 2.0),
        ({"retry-after": "0.5"}, None, 0.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, None, 1.5),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, None, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, None, 0.0),
        ({"llm_provider-retry-after": "7"}, None, 7.0),
        ({"llm_provider-retry-after-ms": "250"}, None, 0.25),
        ({}, gemini_error(429, "RESOURCE_EXHAUSTED", "x", [GEMINI_RETRY]), 17.0),
        ({}, gemini_error(429, "RESOURCE_EXHAUSTED", "x", [{"retryDelay": "1.25s"}]), 1.25),
        ({}, litellm_error('GeminiException - {"retryDelay": "42s"}', code="429"), 42.0),
        ({"Retry-After": "soon"}, None, None),
        ({}, openai_error("x"), None),
    ],
)
def test_wait_is_read_from_every_header_and_body_kind(headers, body, expected):
    got = retry_after(headers, body, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_wait_travels_on_the_retryable_error():
    exc = error_from_response(
        429,
        {},
        gemini_error(429, "RESOURCE_EXHAUSTED", "x", [GEMINI_MINUTE_QUOTA, GEMINI_RETRY]),
        route="direct",
        provider="gemini",
    )
    assert isinstance(exc, RetryableError)
    assert exc.retry_after == 17.0
    assert exc.code == RetryableError.code and exc.provider_code == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("17s", 17.0), ("0.5s", 0.5), ("3", 3.0), ({"seconds": 2, "nanos": 500_000_000}, 2.5),
     ("later", None), (None, None)],
)  # fmt: skip
def test_parse_duration(value, seconds):
    assert parse_duration(value) == seconds


def test_timeouts_and_connection_errors_are_retryable():
    import httpx

    timeout = transport_error(httpx.ReadTimeout("slow"), route="proxy", provider="litellm")
    refused = transport_error(httpx.ConnectError("refused"), route="direct", provider="openai")
    assert isinstance(timeout, RetryableError) and timeout.reason == "timeout"
    assert isinstance(refused, RetryableError) and refused.reason == "connection_error"
    assert timeout.code == refused.code == RetryableError.code
    assert timeout.http_status is None


def test_a_key_echoed_by_the_provider_never_reaches_the_exception():
    from remorai.logging import register_secret

    key = "sk-echoed-secret-key-1234567890"
    register_secret(key)
    body = openai_error(f"Incorrect API key provided: {key}.", code="invalid_api_key")
    exc = error_from_response(401, {}, body, route="direct", provider="openai")
    assert key not in exc.detail and key not in str(exc)
    assert "Incorrect API key provided" in exc.detail


PROVIDER_CODES = [
    # (route, status, body, file_id, documented code, provider_code)
    ("direct", 400, openai_error("Invalid schema"), None, "request_rejected",
     "invalid_request_error"),
    ("direct", 400, openai_error("bad", code="invalid_value"), None, "request_rejected",
     "invalid_value"),
    ("direct", 429, openai_error("You exceeded your current quota", "insufficient_quota",
                                 "insufficient_quota"), None, "quota_exceeded",
     "insufficient_quota"),
    ("direct", 429, openai_error("Rate limit reached", "requests", "rate_limit_exceeded"), None,
     "provider_retryable", "rate_limit_exceeded"),
    ("direct", 404, openai_error("The model `gpt-9` does not exist", code="model_not_found"),
     None, "route_unavailable", "model_not_found"),
    ("direct", 404, openai_error("No such File object: file-1"), "file-1", "file_gone",
     "invalid_request_error"),
    ("direct", 429, gemini_error(429, "RESOURCE_EXHAUSTED", "slow down", [GEMINI_MINUTE_QUOTA]),
     None, "provider_retryable", "RESOURCE_EXHAUSTED"),
    ("direct", 400, gemini_error(400, "INVALID_ARGUMENT", "bad request"), None,
     "request_rejected", "INVALID_ARGUMENT"),
    ("direct", 529, anthropic_error("overloaded_error"), None, "provider_retryable",
     "overloaded_error"),
    ("direct", 413, anthropic_error("request_too_large"), None, "request_rejected",
     "request_too_large"),
    ("proxy", 401, litellm_error("Authentication Error", type_="auth_error", code="401"), None,
     "route_unavailable", "auth_error"),
    ("proxy", 500, litellm_error("boom", type_="None", code="500"), None, "provider_retryable",
     ""),
    ("direct", 502, "<html>Bad gateway</html>", None, "provider_retryable", ""),
]  # fmt: skip


@pytest.mark.parametrize(("route", "status", "body", "file_id", "code", "provider"), PROVIDER_CODES)
def test_the_code_is_documented_and_the_providers_own_is_kept_apart(
    route, status, body, file_id, code, provider
):
    exc = error_from_response(status, {}, body, route=route, provider="openai", file_id=file_id)
    assert (exc.code, exc.provider_code) == (code, provider)
