"""A run's lease: the one conditional claim (queued -> running with a fresh token), then the
heartbeats, the cancel and lost-lease notices, and the terminal write conditional on the token."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from extraction.models import ExtractionRun
from extraction.services import durable
from extraction.webhooks.outbox import webhook_run_events_record

logger = logging.getLogger(__name__)

Status = ExtractionRun.Status


class Lease:
    """This execution's hold on a run: heartbeats, and notices cancel or a lost lease."""

    def __init__(self, run_id, token: uuid.UUID):
        self.run_id = run_id
        self.token = token
        self.lost = False
        self.cancel_requested = False
        self._lock = threading.Lock()
        self.attempt: int | None = None  # the attempt count of this claim, once read
        self.held = durable.HeldAttempts(run_id)  # attempt rows the database was away for
        # Called with the fields in the transaction that writes them (a batch job's counters).
        self.with_write: Callable[[dict], None] | None = None

    def _mine(self):
        return ExtractionRun.objects.filter(
            pk=self.run_id, lease_token=self.token, status=Status.RUNNING
        )

    def beat(self) -> bool:
        """Record a heartbeat; False when the run should stop (cancelled, or no longer ours).
        A run the sweeper took back and nobody claimed since is taken again (its task then
        claims nothing): this execution is alive, only its heartbeats were lost."""
        with self._lock:
            if self.lost:
                return False
            now = timezone.now()
            if not self._mine().update(heartbeat_at=now) and not (
                self.attempt is not None
                and ExtractionRun.objects.filter(
                    durable.taken_back(self.attempt), pk=self.run_id
                ).update(status=Status.RUNNING, lease_token=self.token, heartbeat_at=now)
            ):
                self.lost = True
                return False
            if self._mine().filter(cancel_requested=True).exists():
                self.cancel_requested = True
            return not self.cancel_requested

    def should_continue(self) -> bool:
        try:
            return self.beat()
        except durable.DB_UNAVAILABLE:  # cannot tell: go on, the answer will be held
            logger.warning("run %s: heartbeat failed (database unavailable)", self.run_id)
            return True

    def finish(self, **fields) -> bool:
        """Write the outcome (and the held attempt rows) if the run is still ours; False
        (nothing written) otherwise. Retried through a database outage (services.durable)."""

        def outbox():  # a terminal status writes its webhook outbox rows with it (#15)
            webhook_run_events_record(
                run_id=self.run_id,
                status=fields.get("status"),
                needs_review=bool(fields.get("needs_review")),
            )
            if self.with_write is not None:
                self.with_write(fields)

        with self._lock:
            written = durable.terminal_write(
                run_id=self.run_id,
                token=self.token,
                # taken back while the database was away (unnoticed): still ours if unclaimed
                attempt=None if self.lost else self.attempt,
                fields=fields,
                held=self.held,
                with_write=outbox,
            )
            self.lost = not written
            return written

    @contextmanager
    def heartbeating(self, interval: float):
        """Heartbeat from a thread while one long call blocks the worker."""
        stop = threading.Event()

        def loop():
            try:
                while not stop.wait(interval):
                    try:
                        self.beat()
                    except Exception:  # noqa: BLE001 - a missed beat must not kill the run
                        logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
            finally:
                connection.close()

        thread = threading.Thread(target=loop, name=f"heartbeat-{self.run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=interval + 5)


def claim(run_id, *, status: str = Status.QUEUED) -> uuid.UUID | None:
    """Claim a queued, due run for one execution: its lease token, or None if not claimed.
    (`status` batched: a run whose answer came in a provider batch job, claimed to write it.)"""
    token = uuid.uuid4()
    now = timezone.now()
    claimed = (
        ExtractionRun.objects.filter(pk=run_id, status=status)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(
            status=Status.RUNNING,
            lease_token=token,
            attempt_count=F("attempt_count") + 1,
            started_at=now,
            heartbeat_at=now,
            not_before=None,
        )
    )
    return token if claimed else None
