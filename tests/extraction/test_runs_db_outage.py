"""No provider answer lost to a database blip (#17 §4): the claim, the attempt rows and the
result write are retried with back-off through an outage, for EXTRACTION_DB_RETRY_SECONDS.

The outage is Django's own execute_wrapper on the worker's connection: every query fails with
OperationalError (what a restarted PostgreSQL gives) until the outage ends. The real thing, on
PostgreSQL with a cluster, is in tests/reliability/test_recovery.py.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import OperationalError, connection
from django.db.models import F

from extraction.models import ExtractionAttempt, ExtractionRun
from extraction.services import execution
from extraction.services.execution import extraction_run_execute
from extraction.services.runs import extraction_run_enqueue
from tests.extraction.pipeline import ANSWER_DATA, seeded_profile

pytestmark = pytest.mark.django_db(transaction=True)  # retries happen outside a transaction

Status = ExtractionRun.Status


class Outage:
    """The database refuses every query while `down`, or for the next `queries` queries."""

    def __init__(self):
        self.down = False
        self.queries = 0
        self.refused = 0

    def __call__(self, execute, sql, params, many, context):
        if self.down or self.queries > 0:
            self.queries = max(0, self.queries - 1)
            self.refused += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.fixture
def outage():
    outage = Outage()
    with connection.execute_wrapper(outage):
        yield outage


@pytest.fixture
def run(document, enqueued):
    return extraction_run_enqueue(document=document, profile=seeded_profile("invoice"))


def test_an_answer_arriving_while_the_database_is_down_is_written_when_it_returns(
    run, fake, outage
):
    # The database goes away while the provider is answering; it is back ~2 s later.
    fake.before_answer = lambda request: setattr(outage, "queries", 5)
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    assert outage.refused == 5
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.result == ANSWER_DATA and run.lease_token is None
    # The attempt that happened during the outage is recorded, its usage and cost kept.
    attempt = ExtractionAttempt.objects.get(run=run, operation="generate")
    assert (attempt.outcome, attempt.input_tokens, str(attempt.cost_usd)) == ("ok", 100, "0.001200")
    assert (run.input_tokens, str(run.cost_usd)) == (100, "0.001200")


def test_a_claim_during_an_outage_waits_for_the_database_instead_of_consuming_the_task(
    run, fake, outage
):
    outage.queries = 3
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    assert outage.refused == 3
    run.refresh_from_db()
    assert run.attempt_count == 1 and run.status == Status.SUCCEEDED


def test_the_retries_are_bounded_by_the_setting(run, fake, outage, settings):
    settings.EXTRACTION_DB_RETRY_SECONDS = 1.5
    fake.before_answer = lambda request: setattr(outage, "down", True)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        extraction_run_execute(run_id=run.pk)
    assert time.monotonic() - started < 1.5 + 2  # the budget, plus the back-off's last step
    outage.down = False
    # Nothing half-written: the run is still running under the lost lease (the sweeper's case).
    run.refresh_from_db()
    assert (
        run.status == Status.RUNNING
        and not ExtractionAttempt.objects.filter(operation="generate").exists()
    )


def test_a_database_lost_before_any_answer_puts_the_run_back_in_the_queue(
    run, fake, outage, enqueued
):
    def lose_the_database(request):
        raise OperationalError("terminating connection due to administrator command")

    fake.before_answer = lose_the_database
    assert extraction_run_execute(run_id=run.pk) == "requeued"
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.lease_token is None and run.error_code == ""
    assert enqueued.count(run.pk) == 2  # at creation, and again now
    fake.before_answer = None
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED


def _taken_back_by_the_sweeper(run):
    # What the sweeper does to a run whose heartbeat went silent (extraction_runs_sweep).
    ExtractionRun.objects.filter(pk=run.pk).update(status=Status.QUEUED, lease_token=None)


def test_a_run_the_sweeper_took_back_during_the_outage_is_kept_by_its_living_execution(
    run, fake, outage, settings, monkeypatch
):
    def outage_long_enough_for_the_sweeper(request):
        _taken_back_by_the_sweeper(run)
        outage.queries = 3

    fake.before_answer = outage_long_enough_for_the_sweeper
    # A verification long enough for the heartbeat thread to beat during it.
    settings.EXTRACTION_HEARTBEAT_SECONDS = 0.05
    verify = execution.run_verification_compute

    def slow_verification(**kwargs):
        time.sleep(0.3)
        return verify(**kwargs)

    monkeypatch.setattr(execution, "run_verification_compute", slow_verification)
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.attempt_count, run.result) == (Status.SUCCEEDED, 1, ANSWER_DATA)
    assert ExtractionAttempt.objects.filter(run=run, operation="generate").count() == 1
    # The task the sweeper enqueued claims nothing: the provider is not called twice.
    assert extraction_run_execute(run_id=run.pk) == "not_claimed"
    assert len(fake.requests) == 1


def test_a_run_claimed_again_meanwhile_keeps_the_held_attempt_but_not_the_answer(run, fake, outage):
    other = uuid.uuid4()

    def claimed_by_another_worker(request):
        _taken_back_by_the_sweeper(run)
        ExtractionRun.objects.filter(pk=run.pk).update(
            status=Status.RUNNING, lease_token=other, attempt_count=F("attempt_count") + 1
        )
        outage.queries = 3

    fake.before_answer = claimed_by_another_worker
    assert extraction_run_execute(run_id=run.pk) == "lease_lost"
    run.refresh_from_db()
    assert (run.status, run.lease_token, run.result) == (Status.RUNNING, other, None)
    # The provider call happened and cost money: its attempt row is written all the same.
    assert (
        ExtractionAttempt.objects.filter(run=run, operation="generate", outcome="ok").count() == 1
    )
