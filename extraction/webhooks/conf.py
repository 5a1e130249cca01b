"""The webhook settings, each with its default (settings.py reads them from the environment)."""

from django.conf import settings

# Fixed by the contract (issue #15), not settings.
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 64 * 1024

# About 24 hours over 8 attempts (the first one plus these waits), in seconds.
DEFAULT_RETRY_SCHEDULE = (5, 60, 300, 1800, 7200, 21600, 54000)


def _get(name: str, default):
    return getattr(settings, name, default)


def retry_schedule() -> tuple[float, ...]:
    """The waits before each retry (the first attempt is immediate)."""
    return tuple(float(s) for s in _get("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE))


def retry_jitter() -> float:
    """Each wait is stretched or shrunk at random by up to this fraction."""
    return float(_get("WEBHOOK_RETRY_JITTER", 0.2))


def disable_after_failures() -> int:
    """An endpoint is disabled after this many consecutive failed deliveries."""
    return int(_get("WEBHOOK_DISABLE_AFTER_FAILURES", 5))


def allowed_hosts() -> frozenset[str]:
    """Hosts exempt from the private-address check (e.g. a receiver on loopback in tests)."""
    return frozenset(h.strip().lower() for h in _get("WEBHOOK_ALLOWED_HOSTS", ()) if h.strip())


def allow_http() -> bool:
    """http:// endpoints are accepted in debug, or when this setting says so."""
    return bool(settings.DEBUG or _get("WEBHOOK_ALLOW_HTTP", False))


def secret_overlap_seconds() -> float:
    """After a rotation the previous secret still signs for this long."""
    return float(_get("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 3600))


def claim_seconds() -> float:
    """A send holds its delivery this long; past it (the worker died) the sweeper sends again."""
    return float(_get("WEBHOOK_CLAIM_SECONDS", TOTAL_TIMEOUT_SECONDS + 45))
