"""Every setting of the llm app and its default, in one place (django-q2's `conf.py` shape).

`remorai/settings.py` passes through a variable set in the environment (read as its default's
type); a name it does not set gets the default here, written nowhere else. Read as `conf.NAME`:
looked up on each access, so a test's `settings` override is seen at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The LiteLLM proxy: unset means no proxy route.
    "LITELLM_BASE_URL": "",
    "LITELLM_API_KEY": "",
    # Provider hosts (the simulator in development) and keys; or AWS Secrets Manager.
    "OPENAI_BASE_URL": "",
    "GEMINI_BASE_URL": "",
    "ANTHROPIC_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "GEMINI_API_KEY": "",
    "ANTHROPIC_API_KEY": "",
    "LLM_SECRETS_ID": "",
    "LLM_SECRETS_CACHE_SECONDS": 300,
    "AWS_SECRETS_REGION": "us-east-1",
    # Timeouts of one HTTP call, and of one operation on one route with its retries.
    "LLM_TIMEOUT_SECONDS": 120.0,
    "LLM_CONNECT_TIMEOUT_SECONDS": 5.0,
    "LLM_CALL_DEADLINE_SECONDS": 300.0,
    # Retry policy per route; a longer wait asked by a provider becomes "retry later at T".
    "LLM_RETRY_ATTEMPTS": 3,
    "LLM_RETRY_BASE_SECONDS": 1.0,
    "LLM_MAX_RETRY_WAIT_SECONDS": 30.0,
    # Circuit breaker per route.
    "LLM_BREAKER_FAILURES": 5,
    "LLM_BREAKER_COOLOFF_SECONDS": 60.0,
    # How long the readiness check keeps the proxy's answer.
    "LLM_PROXY_HEALTH_CACHE_SECONDS": 5.0,
    # Fallback models when a request names none.
    "LLM_DEFAULT_FALLBACKS": [],
    # The model catalog: operator override over the LLMModel table (see llm.catalog), per model
    # and field, e.g. '{"openai/gpt-4o": {"price_input": "2"}, "openai/gpt-4o-mini": null}'
    # (null removes a model); and how long each process keeps its copy of the table (the delay
    # before an edit is seen everywhere).
    "LLM_MODELS_JSON": {},
    "LLM_CATALOG_CACHE_SECONDS": 5.0,
    # Provider batch jobs: at most this many requests and bytes (the input file, or Anthropic's
    # request body) per job — the providers' own limits; a bigger submission is split.
    "LLM_BATCH_LIMITS": {
        "openai": {"requests": 50_000, "bytes": 200 * 1024 * 1024},
        "anthropic": {"requests": 100_000, "bytes": 256 * 1024 * 1024},
        "gemini": {"requests": 100_000, "bytes": 2 * 1024 * 1024 * 1024},
    },
}


class Conf:
    """`conf.NAME` is settings.NAME when set, else DEFAULTS[NAME]."""

    def __getattr__(self, name: str) -> Any:
        try:
            default = DEFAULTS[name]
        except KeyError:
            raise AttributeError(f"llm.conf has no setting {name!r}") from None
        return getattr(settings, name, default)


conf = Conf()
