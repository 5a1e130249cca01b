"""A worker's writes through a database outage: no provider answer lost to a blip.

A run's claim, its attempt rows and its terminal write are retried with back-off while the
database is unreachable, for EXTRACTION_DB_RETRY_SECONDS at most; the provider's answer is held
in memory meanwhile. The terminal write and the attempt rows still held go in ONE transaction,
written at most once however often it is retried (attempt rows are matched before they are
inserted; a write whose commit was lost on the wire is recognised by its `finished_at`).

While the database was away the sweeper may have taken the silent run back (queued again, no
lease). If nobody has claimed it since (its attempt count is still ours), the held answer is
written all the same, and the task the sweeper enqueued claims nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from extraction import conf
from extraction.models import ExtractionAttempt, ExtractionRun

logger = logging.getLogger(__name__)

T = TypeVar("T")
Status = ExtractionRun.Status

#: what a lost or refused database connection raises
DB_UNAVAILABLE = (OperationalError, InterfaceError)
FIRST_DELAY = 0.25
MAX_DELAY = 5.0


def retry_db(fn: Callable[[], T], *, what: str, run_id, sleep=time.sleep) -> T:
    """fn(), retried with back-off (0.25 s doubling to 5 s) while the database is unreachable,
    for EXTRACTION_DB_RETRY_SECONDS; then the last error is raised. Inside a transaction the
    caller decides: no retry there (the transaction is lost with the connection)."""
    budget = conf.db_retry_seconds()
    started = time.monotonic()
    delay = FIRST_DELAY
    failures = 0
    while True:
        try:
            result = fn()
        except DB_UNAVAILABLE as exc:
            if connection.in_atomic_block:
                raise
            failures += 1
            waited = time.monotonic() - started
            if waited >= budget:
                logger.error(
                    "run %s: %s gave up after %.1f s of database outage (%d tries): %s",
                    run_id,
                    what,
                    waited,
                    failures,
                    type(exc).__name__,
                )
                raise
            if failures == 1 or failures % 10 == 0:
                logger.warning(
                    "run %s: %s failed (database unavailable, try %d); retrying for up to %.0f s",
                    run_id,
                    what,
                    failures,
                    budget - waited,
                )
            _drop_broken_connection()
            sleep(min(delay, max(0.0, budget - waited)))
            delay = min(delay * 2, MAX_DELAY)
            continue
        if failures:
            logger.warning(
                "run %s: %s done after %d failed tries (%.1f s of database outage)",
                run_id,
                what,
                failures,
                time.monotonic() - started,
            )
        return result


def _drop_broken_connection() -> None:
    # The next query opens a fresh connection (the old one may be half-dead after a restart).
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead connection may fail too
        connection.connection = None


class HeldAttempts:
    """Attempt rows not yet written (the database was away when they happened)."""

    def __init__(self, run_id):
        self.run_id = run_id
        self.rows: list[ExtractionAttempt] = []

    def hold(self, row: ExtractionAttempt) -> None:
        self.rows.append(row)

    def write(self) -> None:
        """Insert the held rows not already in the table (call inside the write's transaction)."""
        if not self.rows:
            return
        present = set(
            ExtractionAttempt.objects.filter(run_id=self.run_id).values_list(
                "started_at", "operation", "route", "model"
            )
        )
        missing = [
            row
            for row in self.rows
            if (row.started_at, row.operation, row.route, row.model) not in present
        ]
        ExtractionAttempt.objects.bulk_create(missing)

    def written(self) -> None:
        self.rows = []


def taken_back(attempt: int) -> Q:
    """A run the sweeper queued again while its execution was silent (a database outage) and
    nobody claimed since: its attempt count is still that execution's claim's."""
    return Q(status=Status.QUEUED, lease_token__isnull=True, attempt_count=attempt)


def terminal_write(
    *,
    run_id,
    token,
    attempt: int | None,
    fields: dict,
    held: HeldAttempts | None,
    with_write: Callable[[], None] | None = None,
) -> bool:
    """Write the run's outcome (and the held attempt rows) once; False when the run is no
    longer this execution's to write (cancelled, claimed again, …). `with_write` runs in the
    same transaction when the outcome is written (e.g. the webhook outbox rows)."""
    now_fields = {"lease_token": None, "heartbeat_at": timezone.now(), **fields}
    mine = Q(lease_token=token, status=Status.RUNNING)
    if attempt is not None:
        mine |= taken_back(attempt)
    tries = 0

    def write() -> bool:
        nonlocal tries
        tries += 1
        with transaction.atomic():
            if held is not None:
                held.write()
            written = ExtractionRun.objects.filter(mine, pk=run_id).update(**now_fields)
            if written and with_write is not None:
                with_write()
            if not written and tries > 1 and "finished_at" in fields:
                # An earlier try committed and only its answer was lost with the connection.
                written = ExtractionRun.objects.filter(
                    pk=run_id, status=fields.get("status"), finished_at=fields["finished_at"]
                ).exists()
            return bool(written)

    written = retry_db(write, what="the result write", run_id=run_id)
    if held is not None:
        held.written()
    return written
