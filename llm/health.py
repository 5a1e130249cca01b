"""The "proxy" readiness check (/readyz), registered when LITELLM_BASE_URL is set.

The proxy being down makes the LLM layer degraded, not unable to serve, when a direct provider
key is configured: then the check stays ok and says so; without one, the process is not ready.
The answer is kept for LLM_PROXY_HEALTH_CACHE_SECONDS so probes do not hammer the proxy.
"""

from __future__ import annotations

import threading
import time

from llm.catalog import PROVIDERS
from llm.conf import conf
from llm.secrets import has_api_key
from remorai.health import READINESS_CHECKS
from remorai.logging import redact

_lock = threading.Lock()
_last: tuple[float, tuple[bool, dict]] | None = None


def proxy_health() -> tuple[bool, str]:
    from llm.gateways import get_gateway

    try:
        return get_gateway("proxy", "openai").health()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return False, f"{type(exc).__name__}: {redact(str(exc))[:200]}"


def proxy_check() -> tuple[bool, dict]:
    global _last
    now = time.monotonic()
    with _lock:
        if _last and now - _last[0] < conf.LLM_PROXY_HEALTH_CACHE_SECONDS:
            return _last[1]
    ready, detail = proxy_health()
    direct = [p for p in PROVIDERS if has_api_key(p)]
    details = {"proxy_ready": ready, "detail": detail, "direct_fallback": direct}
    result = (ready or bool(direct), details)
    with _lock:
        _last = (now, result)
    return result


def clear_cache() -> None:
    global _last
    with _lock:
        _last = None


def register_readiness() -> None:
    if conf.LITELLM_BASE_URL:
        READINESS_CHECKS["proxy"] = proxy_check
    else:
        READINESS_CHECKS.pop("proxy", None)
