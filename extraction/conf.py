"""The pipeline's tunables, each with its default (overridable in settings or the environment)."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def heartbeat_seconds() -> float:
    """How often a running extraction proves it is alive during a long call."""
    return float(_get("EXTRACTION_HEARTBEAT_SECONDS", 5))


def stale_heartbeat_seconds() -> float:
    """A running run whose heartbeat is older than this is taken back by the sweeper."""
    return float(_get("EXTRACTION_STALE_HEARTBEAT_SECONDS", 20))


def stale_queued_seconds() -> float:
    """A queued run waiting this long with no pending task in the broker is enqueued again."""
    return float(_get("EXTRACTION_STALE_QUEUED_SECONDS", 15))


def max_attempts() -> int:
    """Our own limit on claims of one run (django-q2's does not count killed workers)."""
    return int(_get("EXTRACTION_MAX_ATTEMPTS", 3))


def run_budget_seconds() -> float:
    """Wall-clock budget of one execution: kept under django-q2's timeout, which kills it."""
    q_timeout = float(settings.Q_CLUSTER.get("timeout") or 600)
    return float(_get("EXTRACTION_RUN_BUDGET_SECONDS", max(q_timeout - 30, q_timeout * 0.9)))


def upload_wait_seconds() -> float:
    """How long a run waits for another run's upload of the same document before taking over."""
    return float(_get("EXTRACTION_UPLOAD_WAIT_SECONDS", 300))


def upload_poll_seconds() -> float:
    return float(_get("EXTRACTION_UPLOAD_POLL_SECONDS", 0.5))


def remote_file_margin_seconds() -> float:
    """A remote copy expiring sooner than this is not reused (it could expire mid-call)."""
    return float(_get("EXTRACTION_REMOTE_FILE_MARGIN_SECONDS", 15 * 60))


def db_retry_seconds() -> float:
    """How long a worker keeps retrying its claim, its attempt rows and its result write through
    a database outage (back-off up to 5 s) before giving up; the provider's answer is held."""
    return float(_get("EXTRACTION_DB_RETRY_SECONDS", 120))
