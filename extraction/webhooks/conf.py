"""The webhook settings, each default written here only (remorai/settings.py passes through a
variable set in the environment, read as its default's type)."""

from django.conf import settings

# Fixed by the contract (issue #15), not settings.
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 64 * 1024

DEFAULTS = {
    # About 24 hours over 8 attempts (the first one plus these waits), in seconds.
    "WEBHOOK_RETRY_SCHEDULE": (5.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0, 54000.0),
    "WEBHOOK_RETRY_JITTER": 0.2,
    "WEBHOOK_DISABLE_AFTER_FAILURES": 5,
    "WEBHOOK_ALLOWED_HOSTS": (),
    "WEBHOOK_ALLOW_HTTP": False,
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 24 * 3600.0,
    "WEBHOOK_CLAIM_SECONDS": TOTAL_TIMEOUT_SECONDS + 45,
}


def _get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def retry_schedule() -> tuple[float, ...]:
    """The waits before each retry (the first attempt is immediate)."""
    return tuple(float(s) for s in _get("WEBHOOK_RETRY_SCHEDULE"))


def retry_jitter() -> float:
    """Each wait is stretched or shrunk at random by up to this fraction."""
    return float(_get("WEBHOOK_RETRY_JITTER"))


def disable_after_failures() -> int:
    """An endpoint is disabled after this many consecutive failed deliveries."""
    return int(_get("WEBHOOK_DISABLE_AFTER_FAILURES"))


def allowed_hosts() -> frozenset[str]:
    """Hosts exempt from the private-address check (e.g. a receiver on loopback in tests)."""
    return frozenset(h.strip().lower() for h in _get("WEBHOOK_ALLOWED_HOSTS") if h.strip())


def allow_http() -> bool:
    """http:// endpoints are accepted in debug, or when this setting says so."""
    return bool(settings.DEBUG or _get("WEBHOOK_ALLOW_HTTP"))


def secret_overlap_seconds() -> float:
    """After a rotation the previous secret still signs for this long."""
    return float(_get("WEBHOOK_SECRET_OVERLAP_SECONDS"))


def claim_seconds() -> float:
    """A send holds its delivery this long; past it (the worker died) the sweeper sends again."""
    return float(_get("WEBHOOK_CLAIM_SECONDS"))
