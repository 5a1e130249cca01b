"""A run's terminal write and its webhook outbox rows commit together (or not at all)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from extraction.models import ExtractionRun
from extraction.services import lease
from extraction.services.execution import extraction_run_execute
from extraction.services.runs import extraction_run_cancel, extraction_run_enqueue
from extraction.services.sweeper import extraction_runs_sweep
from extraction.webhooks import outbox
from extraction.webhooks.models import WebhookDelivery, WebhookEndpoint
from llm import errors as llm_errors
from tests.extraction.pipeline import seeded_profile

pytestmark = pytest.mark.django_db

Status = ExtractionRun.Status


@pytest.fixture
def endpoint(user):
    return WebhookEndpoint.objects.create(
        owner=user,
        url="https://hooks.example.com/in",
        secret="whsec_" + "C" * 43,
        events=["extraction.succeeded", "extraction.failed", "extraction.cancelled"],
    )


@pytest.fixture
def sent(monkeypatch):
    ids = []
    monkeypatch.setattr(outbox.queue, "enqueue_webhook_send", ids.append)
    return ids


def enqueue(document):
    return extraction_run_enqueue(document=document, profile=seeded_profile("invoice"))


def events(run):
    return list(WebhookDelivery.objects.filter(run=run).values_list("event", flat=True))


def test_succeeded_run_writes_its_event_and_sends_after_commit(
    document, endpoint, enqueued, fake, sent, django_capture_on_commit_callbacks
):
    run = enqueue(document)
    with django_capture_on_commit_callbacks(execute=True):
        assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    assert events(run) == ["extraction.succeeded"]
    assert sent == [str(WebhookDelivery.objects.get().pk)]


def test_failed_run_writes_extraction_failed(document, endpoint, enqueued, fake, sent):
    fake.script = [llm_errors.RequestRejected("refused", http_status=400)]
    run = enqueue(document)
    assert extraction_run_execute(run_id=run.pk) == Status.FAILED
    assert events(run) == ["extraction.failed"]


def test_cancel_of_a_queued_run_writes_extraction_cancelled(document, endpoint, enqueued, sent):
    run = enqueue(document)
    extraction_run_cancel(run=run)
    assert events(run) == ["extraction.cancelled"]
    extraction_run_cancel(run=run)  # already cancelled: no second event
    assert events(run) == ["extraction.cancelled"]


def test_sweeper_cancelling_a_dead_workers_run_writes_extraction_cancelled(
    document, endpoint, enqueued, sent
):
    run = enqueue(document)
    ExtractionRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING,
        cancel_requested=True,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    extraction_runs_sweep()
    assert events(run) == ["extraction.cancelled"]


def test_no_event_for_another_users_run_or_a_lost_lease(
    document, endpoint, enqueued, fake, sent, other_user
):
    endpoint.owner = other_user
    endpoint.save()
    run = enqueue(document)
    extraction_run_execute(run_id=run.pk)
    assert events(run) == []


def test_the_terminal_write_and_the_outbox_row_are_one_transaction(
    document, endpoint, enqueued, fake, sent, monkeypatch
):
    def outbox_fails(**kwargs):
        raise RuntimeError("outbox insert failed")

    monkeypatch.setattr(lease, "webhook_run_events_record", outbox_fails)
    run = enqueue(document)
    with pytest.raises(RuntimeError):
        extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.RUNNING  # not succeeded without its event: the sweeper retakes it
    assert not WebhookDelivery.objects.exists()


def test_a_succeeded_run_needing_review_also_raises_needs_review(document, user, sent):
    WebhookEndpoint.objects.create(
        owner=user,
        url="https://hooks.example.com/all",
        secret="whsec_" + "F" * 43,
        events=["extraction.succeeded", "extraction.needs_review"],
    )
    run = enqueue(document)
    ExtractionRun.objects.filter(pk=run.pk).update(status=Status.SUCCEEDED)
    assert outbox.webhook_run_events_record(run_id=run.pk, status="succeeded", needs_review=True)
    assert sorted(events(run)) == ["extraction.needs_review", "extraction.succeeded"]
    assert outbox.run_events(status="failed", needs_review=True) == ["extraction.failed"]
    assert outbox.run_events(status="queued") == []
