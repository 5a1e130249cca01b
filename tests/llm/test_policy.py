import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from llm import policy
from llm.errors import (
    BadOutput,
    ConfigurationError,
    FileGone,
    InvalidJson,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RetryLater,
    RouteUnavailable,
)
from llm.policy import Action, Breaker, classify
from llm.routing import Route
from llm.types import Generation, Usage
from tests.llm.fakes import llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")

PROXY = Route("proxy", "openai", "openai/gpt-4o", "litellm")
DIRECT = Route("direct", "openai", "openai/gpt-4o", "openai")


def rejected(status, detail="bad request", code=None):
    return RequestRejected(detail, http_status=status, provider_code=code)


CLASSIFICATION = [
    # (error, route, action)
    (RetryableError("boom", http_status=500), "proxy", Action.RETRY),
    (RetryableError("boom", http_status=503), "direct", Action.RETRY),
    (RetryableError("overloaded", http_status=529), "direct", Action.RETRY),
    (RetryableError("timeout", http_status=408), "proxy", Action.RETRY),
    (RetryableError("conflict", http_status=409), "direct", Action.RETRY),
    (RetryableError("rate", http_status=429, retry_after=2), "direct", Action.RETRY),
    (RetryableError("read timed out"), "direct", Action.RETRY),
    (httpx.ConnectError("refused"), "direct", Action.RETRY),
    (httpx.ReadTimeout("slow"), "proxy", Action.RETRY),
    (TimeoutError(), "direct", Action.RETRY),
    (QuotaExceeded("no credit", http_status=429), "direct", Action.FAIL),
    (
        RetryableError("x", http_status=429, provider_code="insufficient_quota"),
        "direct",
        Action.FAIL,
    ),
    (
        RetryableError("Budget has been exceeded! Current cost: 5", http_status=429),
        "proxy",
        Action.FAIL,
    ),
    (rejected(400, "budget_exceeded"), "proxy", Action.FAIL),
    (rejected(400), "direct", Action.FAIL),
    (rejected(400), "proxy", Action.FAIL),
    (rejected(413, "too large"), "direct", Action.FAIL),
    (rejected(422, "unprocessable"), "proxy", Action.FAIL),
    (rejected(401, "bad key"), "direct", Action.FALLBACK),
    (rejected(403, "forbidden"), "direct", Action.FALLBACK),
    (rejected(401, "bad key"), "proxy", Action.FALLBACK),
    (rejected(400, "Invalid model name passed in model=openai/gpt-9"), "proxy", Action.FALLBACK),
    (rejected(400, "Invalid model name passed in model=x"), "direct", Action.FAIL),
    (rejected(400, "x", code="no_db_connection"), "proxy", Action.FALLBACK),
    (RouteUnavailable("proxy down"), "proxy", Action.FALLBACK),
    (ConfigurationError("no key"), "direct", Action.FALLBACK),
    (FileGone("404", http_status=404), "direct", Action.FILE_GONE),
    (FileGone("expired", http_status=403), "proxy", Action.FILE_GONE),
    (BadOutput("not json"), "direct", Action.BAD_OUTPUT),
    (ValueError("a bug"), "direct", Action.FAIL),
]


@pytest.mark.parametrize(("error", "route", "action"), CLASSIFICATION)
def test_classification_table(error, route, action):
    assert classify(error, route=route) is action


class Script:
    """A gateway call: each step raises or returns, in order; records timeouts and sleeps."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls = 0
        self.timeouts = []
        self.sleeps = []

    def __call__(self, timeout):
        self.calls += 1
        self.timeouts.append(timeout)
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def run(script, route=DIRECT, **kwargs):
    attempts = []
    kwargs.setdefault("sleep", script.sleeps.append)
    try:
        result = policy.call(route, "generate", script, on_attempt=attempts.append, **kwargs)
    except Exception as exc:
        return exc, attempts
    return result, attempts


def ok(**kwargs):
    return Generation(text="{}", model="gpt-4o", **kwargs)


def test_two_server_errors_then_success_returns_on_the_third_call():
    script = Script(RetryableError(http_status=500), RetryableError(http_status=500), ok())
    result, attempts = run(script)
    assert isinstance(result, Generation)
    assert script.calls == 3
    assert [a.outcome for a in attempts] == ["retry", "retry", "ok"]
    assert [a.http_status for a in attempts] == [500, 500, None]
    assert len(script.sleeps) == 2 and all(0 <= s <= 30 for s in script.sleeps)


def test_backoff_is_jittered_and_grows():
    waits = set()
    for _ in range(5):
        script = Script(RetryableError(http_status=503), RetryableError(http_status=503), ok())
        run(script)
        waits.add(tuple(script.sleeps))
    assert len(waits) > 1  # jitter: not the same waits every time


def test_retry_after_within_the_cap_is_honoured():
    script = Script(RetryableError(http_status=429, retry_after=2), ok())
    result, _ = run(script)
    assert isinstance(result, Generation)
    assert script.sleeps == [2.0]


def test_retry_after_beyond_the_cap_becomes_retry_later_without_sleeping():
    script = Script(RetryableError(http_status=429, retry_after=600))
    before = datetime.now(UTC)
    error, attempts = run(script)
    assert isinstance(error, RetryLater)
    assert before + timedelta(seconds=590) < error.at < before + timedelta(seconds=610)
    assert script.calls == 1 and script.sleeps == []
    assert attempts[-1].http_status == 429


def test_quota_429_is_one_call_and_no_fallback():
    script = Script(QuotaExceeded("You exceeded your quota", http_status=429), ok())
    error, attempts = run(script)
    assert isinstance(error, QuotaExceeded)
    assert script.calls == 1
    assert [a.outcome for a in attempts] == ["failed"]


def test_the_requests_own_400_is_one_call_and_fails():
    script = Script(rejected(400, "schema is invalid"), ok())
    error, attempts = run(script, route=PROXY)
    assert isinstance(error, RequestRejected) and not isinstance(error, RouteUnavailable)
    assert script.calls == 1
    assert attempts[0].outcome == "failed" and attempts[0].http_status == 400


def test_retries_exhausted_fall_back():
    script = Script(*[RetryableError("upstream 502", http_status=502)] * 3)
    error, attempts = run(script)
    assert isinstance(error, RouteUnavailable)
    assert error.http_status == 502
    assert script.calls == 3
    assert [a.outcome for a in attempts] == ["retry", "retry", "fallback"]


def test_direct_401_falls_back_at_once():
    script = Script(rejected(401, "Incorrect API key"))
    error, attempts = run(script)
    assert isinstance(error, RouteUnavailable)
    assert script.calls == 1 and attempts[0].outcome == "fallback"


def test_proxy_misconfiguration_falls_back_and_is_logged_loudly(caplog):
    script = Script(rejected(400, "Invalid model name passed in model=openai/gpt-4o"))
    with caplog.at_level(logging.WARNING, logger="llm.policy"):
        error, _ = run(script, route=PROXY)
    assert isinstance(error, RouteUnavailable)
    assert any(r.levelno >= logging.ERROR and "misconfigured" in r.message for r in caplog.records)


def test_deadline_stops_retrying_before_waiting_past_it():
    script = Script(*[RetryableError(http_status=429, retry_after=10)] * 3)
    error, _ = run(script, deadline=time.time() + 5)
    assert isinstance(error, RouteUnavailable)
    assert script.calls == 1 and script.sleeps == []


def test_each_call_gets_a_timeout_bounded_by_the_deadline(settings):
    settings.LLM_TIMEOUT_SECONDS = 120
    script = Script(ok())
    run(script, deadline=time.time() + 7)
    assert 6 < script.timeouts[0] <= 7


def test_bad_output_is_reported_with_its_usage_and_raised():
    error = InvalidJson("not json", raw_text="{")
    error.generation = ok(usage=Usage(input_tokens=1_000_000, output_tokens=0))
    raised, attempts = run(Script(error))
    assert raised is error
    assert attempts[0].outcome == "invalid_output"
    assert attempts[0].cost_usd == Decimal("2.500000")


def test_direct_attempt_cost_comes_from_the_catalog():
    usage = Usage(input_tokens=2_000_000, output_tokens=1_000_000, document_tokens=1_000_000)
    _, attempts = run(Script(ok(usage=usage)))
    assert attempts[0].cost_usd == Decimal("15.000000")  # 2 × 2.50 + 1 × 10.00
    assert attempts[0].cost_source == "catalog"


def test_proxy_reported_cost_wins():
    _, attempts = run(Script(ok(cost_usd=Decimal("0.0123"))), route=PROXY)
    assert attempts[0].cost_usd == Decimal("0.0123")
    assert attempts[0].cost_source == "proxy"


def test_error_messages_in_attempts_are_redacted():
    script = Script(rejected(401, "Incorrect API key provided: sk-proj-abcdefghijklmnop"))
    _, attempts = run(script)
    assert "abcdefghijklmnop" not in attempts[0].error_message


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_cooloff(settings):
    settings.LLM_BREAKER_FAILURES = 3
    settings.LLM_BREAKER_COOLOFF_SECONDS = 0.2
    run(Script(*[RetryableError(http_status=500)] * 3))
    assert Breaker(DIRECT.key).is_open()
    refused = Script(ok())
    error, attempts = run(refused)
    assert isinstance(error, RouteUnavailable) and error.reason == "circuit_open"
    assert refused.calls == 0 and attempts[0].error_code == "route_unavailable"
    assert "circuit breaker open" in attempts[0].error_message
    # the other route is not affected
    assert not Breaker(PROXY.key).is_open()
    time.sleep(0.25)
    trial = Script(ok())
    result, _ = run(trial)
    assert isinstance(result, Generation) and trial.calls == 1
    assert not Breaker(DIRECT.key).is_open()


def test_half_open_failure_opens_the_breaker_again(settings):
    settings.LLM_BREAKER_FAILURES = 2
    settings.LLM_BREAKER_COOLOFF_SECONDS = 0.2
    settings.LLM_RETRY_ATTEMPTS = 2
    run(Script(*[RetryableError(http_status=500)] * 2))
    time.sleep(0.25)
    trial = Script(RetryableError(http_status=500), ok())
    run(trial)
    assert trial.calls == 1
    assert Breaker(DIRECT.key).is_open()


def test_a_rejected_request_does_not_count_against_the_route(settings):
    settings.LLM_BREAKER_FAILURES = 2
    for _ in range(3):
        run(Script(rejected(400)))
    assert not Breaker(DIRECT.key).is_open()


def test_one_cost_function_prices_documents_and_batches():
    from llm import catalog
    from llm.cost import call_cost, combined_source

    spec = catalog.get_model("gemini/gemini-2.5-flash")  # 0.30 in / 2.50 out per 1M
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, document_tokens=500_000)
    assert call_cost(spec, usage) == (Decimal("0.550000"), "catalog")
    assert call_cost(spec, usage, batch=True) == (Decimal("0.275000"), "catalog")
    assert call_cost(spec, usage, reported=Decimal("0.4")) == (Decimal("0.4"), "proxy")
    assert call_cost(None, usage) == (None, "")
    assert combined_source(["proxy", "", "proxy"]) == "proxy"
    assert combined_source(["proxy", "catalog"]) == "mixed"
