"""The extraction pipeline's tunables, each default written here only (django-q2's conf.py shape).

remorai/settings.py passes through a variable set in the environment (read as its default's
type); a setting left unset gets the default below. Read through the functions, on each call, so
a test's `settings` override is seen at once.
"""

from django.conf import settings

DEFAULTS = {
    "EXTRACTION_HEARTBEAT_SECONDS": 5.0,
    # The sweeper runs twice a minute (two schedules 30 s apart: the cluster's scheduler wakes
    # every 30 s), so a run whose worker was killed moves again within 20 s + 30 s at worst,
    # whatever Q_RETRY is.
    "EXTRACTION_STALE_HEARTBEAT_SECONDS": 20.0,
    "EXTRACTION_STALE_QUEUED_SECONDS": 15.0,
    "EXTRACTION_MAX_ATTEMPTS": 3,
    "EXTRACTION_RUN_BUDGET_SECONDS": None,  # None: derived from Q_TIMEOUT (run_budget_seconds)
    "EXTRACTION_UPLOAD_WAIT_SECONDS": 300.0,
    "EXTRACTION_UPLOAD_POLL_SECONDS": 0.5,
    "EXTRACTION_REMOTE_FILE_MARGIN_SECONDS": 900.0,
    # Keep it well under Q_TIMEOUT: the task must still be alive when the database is back.
    "EXTRACTION_DB_RETRY_SECONDS": 120.0,
    # Model calls of one segmented run in flight at once (#14): threads of the worker.
    "EXTRACTION_SEGMENT_CONCURRENCY": 4,
}


def _get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def heartbeat_seconds() -> float:
    """How often a running extraction proves it is alive during a long call."""
    return float(_get("EXTRACTION_HEARTBEAT_SECONDS"))


def stale_heartbeat_seconds() -> float:
    """A running run whose heartbeat is older than this is taken back by the sweeper."""
    return float(_get("EXTRACTION_STALE_HEARTBEAT_SECONDS"))


def stale_queued_seconds() -> float:
    """A queued run waiting this long with no pending task in the broker is enqueued again."""
    return float(_get("EXTRACTION_STALE_QUEUED_SECONDS"))


def max_attempts() -> int:
    """Our own limit on claims of one run (django-q2's does not count killed workers)."""
    return int(_get("EXTRACTION_MAX_ATTEMPTS"))


def run_budget_seconds() -> float:
    """Wall-clock budget of one execution: kept under django-q2's timeout, which kills it."""
    budget = _get("EXTRACTION_RUN_BUDGET_SECONDS")
    if budget is None:
        q_timeout = float(settings.Q_CLUSTER.get("timeout") or 600)
        budget = max(q_timeout - 30, q_timeout * 0.9)
    return float(budget)


def upload_wait_seconds() -> float:
    """How long a run waits for another run's upload of the same document before taking over."""
    return float(_get("EXTRACTION_UPLOAD_WAIT_SECONDS"))


def upload_poll_seconds() -> float:
    """How often a run waiting for another run's upload looks again."""
    return float(_get("EXTRACTION_UPLOAD_POLL_SECONDS"))


def remote_file_margin_seconds() -> float:
    """A remote copy expiring sooner than this is not reused (it could expire mid-call)."""
    return float(_get("EXTRACTION_REMOTE_FILE_MARGIN_SECONDS"))


def segment_concurrency() -> int:
    """How many calls of one segmented run are in flight at once (at least 1)."""
    return max(1, int(_get("EXTRACTION_SEGMENT_CONCURRENCY")))


def db_retry_seconds() -> float:
    """How long a worker keeps retrying its claim, its attempt rows and its result write through
    a database outage (back-off up to 5 s) before giving up; the provider's answer is held."""
    return float(_get("EXTRACTION_DB_RETRY_SECONDS"))
