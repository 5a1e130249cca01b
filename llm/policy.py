"""The one place that decides what happens after a gateway call fails: retry, fall back, or fail.

classify() is a pure function of the error and the route (table-tested). call() runs one
operation on one route: a per-route circuit breaker, tenacity retries with jittered exponential
backoff (a provider's own wait honoured up to LLM_MAX_RETRY_WAIT_SECONDS; a longer one becomes
RetryLater), a deadline, and one Attempt reported per call.

call() raises:
- RouteUnavailable — fall back to the next route (retries exhausted, proxy misconfigured,
  direct 401/403, circuit open);
- RetryLater — the provider asked for a wait longer than the cap;
- the gateway's own error otherwise (RequestRejected/QuotaExceeded, FileGone, BadOutput, …).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import httpx
import tenacity
from django.core.cache import cache

from llm.conf import conf
from llm.cost import model_cost_with_source
from llm.errors import (
    BadOutput,
    Cancelled,
    ConfigurationError,
    DeadlineExceeded,
    FileGone,
    LLMError,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RetryLater,
    RouteUnavailable,
)
from llm.types import Attempt, Generation
from remorai.logging import redact

if TYPE_CHECKING:
    from llm.routing import Route

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Action(enum.StrEnum):
    RETRY = "retry"
    FALLBACK = "fallback"
    FAIL = "failed"
    FILE_GONE = "file_gone"
    BAD_OUTPUT = "invalid_output"


RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_QUOTA_MARKERS = ("insufficient_quota", "budget_exceeded", "budget has been exceeded")
# How the LiteLLM proxy says it is set up wrongly for our request (not that the request is bad).
_PROXY_MISCONFIGURED_MARKERS = (
    "invalid model name",
    "no_db_connection",
    "no deployments available",
    "llm provider not provided",
)


def _text(exc: BaseException) -> str:
    code = getattr(exc, "provider_code", "") or getattr(exc, "code", "") or ""
    detail = getattr(exc, "detail", "") or str(exc)
    return f"{code} {detail}".lower()


def is_quota_refusal(exc: BaseException) -> bool:
    if isinstance(exc, QuotaExceeded):
        return True
    status = getattr(exc, "http_status", None)
    return status in (400, 403, 429) and any(m in _text(exc) for m in _QUOTA_MARKERS)


def is_proxy_misconfiguration(exc: BaseException, route: str) -> bool:
    if route != "proxy" or not isinstance(exc, LLMError):
        return False
    if isinstance(exc, ConfigurationError):
        return True
    status = exc.http_status
    if status in (401, 403):
        return True
    return status in (400, 404) and any(m in _text(exc) for m in _PROXY_MISCONFIGURED_MARKERS)


def classify(exc: BaseException, *, route: str) -> Action:
    """What to do after `exc` from a gateway call on `route` ("proxy" or "direct")."""
    if isinstance(exc, FileGone):
        return Action.FILE_GONE
    if isinstance(exc, BadOutput):
        return Action.BAD_OUTPUT
    if isinstance(exc, Cancelled | DeadlineExceeded):
        return Action.FAIL
    if is_quota_refusal(exc):
        return Action.FAIL
    if is_proxy_misconfiguration(exc, route):
        return Action.FALLBACK
    if isinstance(exc, RouteUnavailable | ConfigurationError | RetryLater):
        return Action.FALLBACK
    if isinstance(exc, RetryableError):
        return Action.RETRY
    status = getattr(exc, "http_status", None)
    if isinstance(exc, RequestRejected):
        if route == "direct" and status in (401, 403):
            return Action.FALLBACK
        return Action.FAIL
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError | TimeoutError):
        return Action.RETRY
    if isinstance(exc, ConnectionError):
        return Action.RETRY
    if isinstance(exc, LLMError) and status is not None:
        if status in RETRYABLE_STATUSES:
            return Action.RETRY
        if route == "direct" and status in (401, 403):
            return Action.FALLBACK
        return Action.FAIL
    return Action.FAIL


# --- Circuit breaker ------------------------------------------------------------------------


class Breaker:
    """Per-route breaker in the Django cache, shared by web and workers.

    Closed until LLM_BREAKER_FAILURES consecutive failed calls; then open (calls refused) for
    LLM_BREAKER_COOLOFF_SECONDS; then half-open: one trial call at a time, success closes it,
    failure opens it again.
    """

    def __init__(self, key: str):
        self.key = f"llm:breaker:{key}"
        self.trial_key = f"{self.key}:trial"

    def _state(self) -> dict:
        return _shared(lambda: cache.get(self.key), None) or {"failures": 0, "opened_at": 0.0}

    def is_open(self) -> bool:
        state = self._state()
        if state["failures"] < conf.LLM_BREAKER_FAILURES:
            return False
        return time.time() - state["opened_at"] < conf.LLM_BREAKER_COOLOFF_SECONDS

    def allow(self) -> bool:
        state = self._state()
        if state["failures"] < conf.LLM_BREAKER_FAILURES:
            return True
        if time.time() - state["opened_at"] < conf.LLM_BREAKER_COOLOFF_SECONDS:
            return False
        timeout = conf.LLM_BREAKER_COOLOFF_SECONDS
        return _shared(lambda: cache.add(self.trial_key, 1, timeout=timeout), True)

    def record_success(self) -> None:
        def forget():
            if cache.get(self.key) is not None:
                cache.delete_many([self.key, self.trial_key])

        _shared(forget, None)

    def record_failure(self) -> None:
        state = self._state()
        state["failures"] += 1
        if state["failures"] >= conf.LLM_BREAKER_FAILURES:
            if state["failures"] == conf.LLM_BREAKER_FAILURES or not self.is_open():
                logger.warning("Circuit breaker %s opens for %ss", self.key, _cooloff())
            state["opened_at"] = time.time()

        def remember():
            cache.set(self.key, state, timeout=24 * 3600)
            cache.delete(self.trial_key)

        _shared(remember, None)


def _shared(operation, default):
    """A breaker operation on the shared cache (the database by default). The breaker is
    advice: while its cache is unreachable (a database restart) it counts as closed and
    forgets, and a provider's answer in hand is never lost to it."""
    try:
        return operation()
    except Exception:  # noqa: BLE001 - DatabaseError, a Redis error: the cache is away
        logger.warning("circuit breaker state unavailable (its cache is unreachable)")
        return default


def _cooloff() -> float:
    return conf.LLM_BREAKER_COOLOFF_SECONDS


# --- One operation on one route ---------------------------------------------------------------


def _backoff() -> tenacity.wait.wait_base:
    return tenacity.wait_random_exponential(
        multiplier=conf.LLM_RETRY_BASE_SECONDS, max=conf.LLM_MAX_RETRY_WAIT_SECONDS
    )


def call(
    route: Route,
    operation: str,
    fn: Callable[[float], T],
    *,
    on_attempt: Callable[[Attempt], None],
    deadline: float | None = None,
    should_continue: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `fn(timeout_seconds)` on `route` under the policy; see the module docstring.

    `deadline` is an epoch time (time.time()) bounding the whole operation, retries included;
    `should_continue()` is asked before each retry (False: Cancelled).
    """
    breaker = Breaker(route.key)
    if not breaker.allow():
        error = RouteUnavailable(
            f"The {route.route} route to {route.provider} is paused after repeated failures "
            "(circuit breaker open).",
            reason="circuit_open",
        )
        _report(on_attempt, route, operation, time.time(), error, Action.FALLBACK)
        raise error
    call_deadline = time.time() + conf.LLM_CALL_DEADLINE_SECONDS
    if deadline is not None:
        call_deadline = min(call_deadline, deadline)
    backoff = _backoff()
    pending: dict = {}

    def attempt() -> T:
        started = time.time()
        pending.clear()
        timeout = max(0.1, min(conf.LLM_TIMEOUT_SECONDS, call_deadline - started))
        try:
            result = fn(timeout)
        except Exception as exc:
            pending.update(exc=exc, started=started, action=classify(exc, route=route.route))
            if pending["action"] in (Action.RETRY, Action.FALLBACK):
                breaker.record_failure()
            else:
                breaker.record_success()  # the route answered; the request was the problem
            raise
        breaker.record_success()
        if isinstance(result, Generation):
            result = with_cost(route, result)  # priced once: the attempt and the answer say so
        _report(on_attempt, route, operation, started, result, "ok")
        return result

    def should_retry(state: tenacity.RetryCallState) -> bool:
        if pending.get("action") is not Action.RETRY:
            return False
        wait = getattr(pending["exc"], "retry_after", None)
        return wait is None or wait <= conf.LLM_MAX_RETRY_WAIT_SECONDS

    def wait(state: tenacity.RetryCallState) -> float:
        asked = getattr(pending.get("exc"), "retry_after", None)
        return float(asked) if asked is not None else backoff(state)

    def stop(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= conf.LLM_RETRY_ATTEMPTS or breaker.is_open():
            return True
        return time.time() + state.upcoming_sleep >= call_deadline

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = pending["exc"]
        logger.info(
            "Retrying %s on %s in %.1fs after %s",
            operation,
            route,
            state.upcoming_sleep,
            redact(_describe(exc)),
        )
        _report(on_attempt, route, operation, pending["started"], exc, Action.RETRY)
        if should_continue is not None and not should_continue():
            raise Cancelled("The extraction was cancelled.")

    retrying = tenacity.Retrying(
        retry=should_retry,
        wait=wait,
        stop=stop,
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Exception as exc:
        if "exc" not in pending or pending["exc"] is not exc:
            raise
        return _after_failure(route, operation, exc, pending, on_attempt)


def _after_failure(route, operation, exc, pending, on_attempt):
    action = pending["action"]
    asked = getattr(exc, "retry_after", None)
    if action is Action.RETRY and asked is not None and asked > conf.LLM_MAX_RETRY_WAIT_SECONDS:
        _report(on_attempt, route, operation, pending["started"], exc, Action.FALLBACK)
        at = datetime.now(UTC) + timedelta(seconds=float(asked))
        raise RetryLater(
            f"{route} asks to wait {asked:.0f}s (more than the "
            f"{conf.LLM_MAX_RETRY_WAIT_SECONDS:.0f}s we wait in a worker).",
            at=at,
            http_status=getattr(exc, "http_status", None),
        ) from exc
    if action in (Action.RETRY, Action.FALLBACK):
        _report(on_attempt, route, operation, pending["started"], exc, Action.FALLBACK)
        if is_proxy_misconfiguration(exc, route.route):
            logger.error(
                "The LiteLLM proxy is misconfigured for %s (%s); falling back to the next route.",
                route.model,
                redact(_describe(exc)),
            )
        else:
            logger.warning(
                "Route %s unavailable for %s (%s); falling back.",
                route,
                operation,
                redact(_describe(exc)),
            )
        raise RouteUnavailable(
            f"{route} failed: {redact(_describe(exc))}",
            http_status=getattr(exc, "http_status", None),
            provider_code=getattr(exc, "provider_code", ""),
            reason=getattr(exc, "reason", ""),
        ) from exc
    _report(on_attempt, route, operation, pending["started"], exc, action)
    raise exc


def _code(exc: BaseException) -> str:
    code = getattr(exc, "code", "")
    return code if isinstance(code, str) and code else type(exc).__name__


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "http_status", None)
    prefix = f"HTTP {status} " if status else ""
    return f"{prefix}{_code(exc)}: {getattr(exc, 'detail', '') or exc}"


def _report(on_attempt, route, operation, started, result, outcome):
    now = time.time()
    fields: dict = {}
    generation = result if isinstance(result, Generation) else getattr(result, "generation", None)
    if isinstance(generation, Generation):
        generation = with_cost(route, generation)  # kept as is when already priced
        fields.update(
            usage=generation.usage,
            cost_usd=generation.cost_usd,
            cost_source=generation.cost_source,
            request_id=next(iter(generation.request_ids.values()), ""),
            simulated=bool(generation.simulated),
        )
    if isinstance(result, BaseException):
        fields.update(
            http_status=getattr(result, "http_status", None),
            error_code=_code(result),
            provider_code=getattr(result, "provider_code", ""),
            error_message=redact(str(getattr(result, "detail", "") or result))[:500],
        )
        if getattr(result, "request_id", ""):
            fields["request_id"] = result.request_id
        if getattr(result, "simulated", False):
            fields["simulated"] = True
    on_attempt(
        Attempt(
            route=route.route,
            provider=route.provider,
            model=route.model,
            operation=operation,
            started_at=datetime.fromtimestamp(started, UTC),
            latency_ms=int((now - started) * 1000),
            outcome=str(outcome),
            **fields,
        )
    )


def with_cost(route: Route, generation: Generation) -> Generation:
    """The generation with its cost and cost_source: the one place a call is priced (llm.cost
    decides which wins; a cost already there, the proxy's or a batch's, is kept)."""
    cost, source = model_cost_with_source(
        route.model,
        generation.usage,
        reported=generation.cost_usd,
        reported_source=generation.cost_source,
    )
    return replace(generation, cost_usd=cost, cost_source=source)
