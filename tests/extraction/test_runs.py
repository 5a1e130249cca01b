"""The run services: enqueue, execute (claim, lease, outcomes), cancel, retry, sweep."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule

from extraction.models import (
    Document,
    ExtractionAttempt,
    ExtractionProfile,
    ExtractionRun,
    UploadedFile,
)
from extraction.services import lease
from extraction.services.execution import extraction_run_execute
from extraction.services.profiles import UnknownModel
from extraction.services.runs import (
    ExtractionFinished,
    ExtractionInProgress,
    extraction_run_cancel,
    extraction_run_enqueue,
    extraction_run_retry,
)
from extraction.services.sweeper import extraction_runs_sweep
from llm import errors as llm_errors
from tests.extraction.pipeline import ANSWER_DATA, run_answer, seeded_profile

pytestmark = pytest.mark.django_db

Status = ExtractionRun.Status


@pytest.fixture
def profile():
    return seeded_profile("invoice")


def enqueue(document, profile, **kw):
    return extraction_run_enqueue(document=document, profile=profile, trigger="api", **kw)


def test_enqueue_snapshots_the_profile_and_enqueues_on_commit(
    document, profile, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = enqueue(document, profile)
    assert len(callbacks) == 1
    assert enqueued == [run.pk]
    assert run.status == Status.QUEUED
    assert run.profile_version == profile.version
    assert run.schema == profile.schema and run.instructions == profile.instructions
    assert run.requested_model == "gemini/gemini-2.5-flash"
    assert run.fallback_models == ["openai/gpt-4o", "anthropic/claude-sonnet-4-6"]
    assert run.queued_at is not None


def test_a_named_model_keeps_the_profiles_other_models_as_fallbacks(document, profile, enqueued):
    run = enqueue(document, profile, model="openai/gpt-4o")
    assert run.requested_model == "openai/gpt-4o"
    assert run.fallback_models == ["gemini/gemini-2.5-flash", "anthropic/claude-sonnet-4-6"]


def test_unknown_model_is_refused(document, profile, enqueued):
    with pytest.raises(UnknownModel):
        enqueue(document, profile, model="openai/not-a-model")
    assert not ExtractionRun.objects.exists()


def test_second_active_run_conflicts_with_the_active_runs_id(document, profile, enqueued):
    first = enqueue(document, profile)
    with pytest.raises(ExtractionInProgress) as info:
        enqueue(document, profile)
    assert info.value.status_code == 409
    assert info.value.fields["active_run_id"] == str(first.pk)
    # Another profile is independent.
    enqueue(document, seeded_profile("summary"))


def test_execute_success_writes_result_usage_cost_and_attempts(document, profile, enqueued, fake):
    run = enqueue(document, profile)
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    assert run.result == ANSWER_DATA
    assert run.simulated is True
    assert (run.model_used, run.route) == ("gemini/gemini-2.5-flash", "proxy")
    assert (run.input_tokens, run.output_tokens, run.document_tokens) == (100, 20, 80)
    assert run.cost_usd == Decimal("0.001200")
    assert run.cost_source == "proxy"  # the proxy route reported its cost
    assert run.attempt_count == 1 and run.lease_token is None
    assert run.started_at and run.finished_at
    attempts = ExtractionAttempt.objects.filter(run=run, outcome="ok")
    assert sorted(attempts.values_list("operation", flat=True)) == ["generate", "upload"]
    [request] = fake.requests
    assert request.model == "gemini/gemini-2.5-flash" and request.transport == "file"
    assert fake.uploads == [request.file.id] == [UploadedFile.objects.get().remote_id]


def test_duplicate_delivery_claims_nothing_and_writes_nothing(document, profile, enqueued, fake):
    run = enqueue(document, profile)
    extraction_run_execute(run_id=run.pk)
    before = ExtractionRun.objects.values().get(pk=run.pk)
    assert extraction_run_execute(run_id=run.pk) == "not_claimed"
    assert ExtractionRun.objects.values().get(pk=run.pk) == before
    assert len(fake.requests) == 1
    assert ExtractionAttempt.objects.filter(run=run, operation="generate").count() == 1


def test_document_too_large_fails_with_its_code(document, profile, enqueued, fake):
    # A profile that does not answer in segments (the seeded invoice's would cut the document).
    whole = ExtractionProfile.objects.create(
        slug="whole",
        name="Whole",
        instructions="x",
        schema=profile.schema,
        default_model=profile.default_model,
        fallback_models=profile.fallback_models,
    )
    Document.objects.filter(pk=document.pk).update(size_bytes=2**40)  # a terabyte
    run = enqueue(document, whole)
    assert extraction_run_execute(run_id=run.pk) == Status.FAILED
    run.refresh_from_db()
    assert run.error_code == "document_too_large_for_models"
    assert "is too large for every requested model" in run.error_message
    assert "takes at most" in run.error_message
    assert run.result is None and fake.requests == []


def test_bad_output_keeps_the_raw_text(document, profile, enqueued, fake):
    fake.script = [run_answer(text='{"total": "ten"')] * 2  # the answer, and the repair's
    run = enqueue(document, profile)
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error_code) == (Status.FAILED, "invalid_json")
    assert run.raw_output == '{"total": "ten"'
    assert run.cost_usd == Decimal("0.002400")  # the failed calls still cost money


def test_unexpected_error_fails_the_run_without_leaking_secrets(document, profile, enqueued, fake):
    fake.script = [RuntimeError("boom with key sk-abcdefghijklmnop1234")]
    run = enqueue(document, profile)
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error_code) == (Status.FAILED, "internal_error")
    assert "sk-abcdefghijklmnop1234" not in run.error_message


def test_retry_later_requeues_with_a_schedule_instead_of_sleeping(
    document, profile, enqueued, fake
):
    def quota_resets_later(request):
        raise llm_errors.RetryableError("quota resets later", http_status=429, retry_after=600)

    fake.before_answer = quota_resets_later  # every route is asked to wait 10 minutes
    run = enqueue(document, profile)
    assert extraction_run_execute(run_id=run.pk) == "retry_later"
    run.refresh_from_db()
    at = run.not_before
    assert run.status == Status.QUEUED
    assert timedelta(minutes=9) < at - timezone.now() <= timedelta(minutes=10)
    assert run.attempt_count == 0 and run.lease_token is None
    schedule = Schedule.objects.get(func="extraction.tasks.run_extraction")
    assert schedule.schedule_type == Schedule.ONCE
    assert schedule.next_run == at
    assert schedule.args == repr(str(run.pk))
    # Delivered early (a stray duplicate): not claimable before its time.
    assert extraction_run_execute(run_id=run.pk) == "not_claimed"
    ExtractionRun.objects.filter(pk=run.pk).update(not_before=timezone.now())
    fake.before_answer = None
    cache.clear()  # the breakers the refusals opened
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED


def test_past_our_attempt_limit_the_run_fails(document, profile, enqueued, fake, settings):
    settings.EXTRACTION_MAX_ATTEMPTS = 3
    run = enqueue(document, profile)
    ExtractionRun.objects.filter(pk=run.pk).update(attempt_count=3)
    assert extraction_run_execute(run_id=run.pk) == Status.FAILED
    run.refresh_from_db()
    assert run.error_code == "too_many_attempts"
    assert fake.requests == []


def test_cancel_queued_run_is_immediate_and_the_task_then_claims_nothing(
    document, profile, enqueued, fake
):
    run = enqueue(document, profile)
    run = extraction_run_cancel(run=run)
    assert run.status == Status.CANCELLED and run.finished_at
    assert extraction_run_execute(run_id=run.pk) == "not_claimed"
    assert fake.requests == []
    # Cancelling again is harmless; a new run may now start.
    extraction_run_cancel(run=run)
    enqueue(document, profile)


def test_cancel_running_run_stops_at_its_next_check(document, profile, enqueued, fake):
    run = enqueue(document, profile)
    fake.before_answer = lambda request: extraction_run_cancel(run=run)
    assert extraction_run_execute(run_id=run.pk) == Status.CANCELLED
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.result is None


def test_cancel_finished_run_conflicts(document, profile, enqueued, fake):
    run = enqueue(document, profile)
    extraction_run_execute(run_id=run.pk)
    with pytest.raises(ExtractionFinished):
        extraction_run_cancel(run=run)


def test_lost_lease_discards_the_result(document, profile, enqueued, fake):
    run = enqueue(document, profile)

    def taken_over(request):  # the sweeper took the run back and another worker claimed it
        ExtractionRun.objects.filter(pk=run.pk).update(
            lease_token=uuid.uuid4(), status=Status.RUNNING, attempt_count=F("attempt_count") + 1
        )

    fake.before_answer = taken_over
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.result is None


def test_an_answer_for_a_run_taken_back_but_not_claimed_since_is_written(
    document, profile, enqueued, fake
):
    # The database was away long enough for the sweeper to take the silent run back; nobody has
    # claimed it since: the answer in hand is written, and the sweeper's task will claim nothing.
    run = enqueue(document, profile)

    def taken_back(request):  # after the last heartbeat, while the provider answers
        ExtractionRun.objects.filter(pk=run.pk).update(lease_token=None, status=Status.QUEUED)

    fake.before_answer = taken_back
    assert extraction_run_execute(run_id=run.pk) == Status.SUCCEEDED
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.result and run.lease_token is None
    assert extraction_run_execute(run_id=run.pk) == "not_claimed"


def test_retry_creates_a_new_run_linked_to_the_old(document, profile, enqueued, fake):
    def down(request):
        raise llm_errors.RouteUnavailable("all down")

    fake.before_answer = down
    run = enqueue(document, profile, model="openai/gpt-4o", transport="inline")
    extraction_run_execute(run_id=run.pk)
    redo = extraction_run_retry(run=run)
    assert redo.pk != run.pk and redo.redo_of_id == run.pk
    assert (redo.requested_model, redo.transport) == ("openai/gpt-4o", "inline")
    with pytest.raises(ExtractionInProgress):
        extraction_run_retry(run=redo)


def test_inline_transport_uploads_nothing(document, profile, enqueued, fake):
    run = enqueue(document, profile, transport="inline")
    extraction_run_execute(run_id=run.pk)
    assert fake.requests[0].transport == "inline" and fake.uploads == []
    assert not UploadedFile.objects.exists()


def test_sweeper_requeues_a_run_whose_heartbeat_stopped(document, profile, enqueued, settings):
    settings.EXTRACTION_STALE_HEARTBEAT_SECONDS = 60
    run = enqueue(document, profile)
    lease.claim(run.pk)
    old = timezone.now() - timedelta(seconds=61)
    ExtractionRun.objects.filter(pk=run.pk).update(heartbeat_at=old)
    enqueued.clear()
    assert extraction_runs_sweep()["requeued"] == 1
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.lease_token is None
    assert run.attempt_count == 1  # counted: the next claim is attempt 2


def test_sweeper_leaves_live_runs_alone(document, profile, enqueued, settings):
    run = enqueue(document, profile)
    lease.claim(run.pk)
    assert extraction_runs_sweep() == {"requeued": 0, "reenqueued": 0}
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_sweeper_reenqueues_a_queued_run_whose_task_vanished(
    document, profile, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.EXTRACTION_STALE_QUEUED_SECONDS = 90
    run = enqueue(document, profile)
    fresh = enqueue(document, seeded_profile("summary"))
    ExtractionRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(seconds=91))
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert extraction_runs_sweep()["reenqueued"] == 1
    assert enqueued == [run.pk]
    assert fresh.pk not in enqueued
    # Its clock restarted: the next sweep does not enqueue it again.
    assert extraction_runs_sweep()["reenqueued"] == 0


def test_sweeper_waits_for_a_scheduled_retry(document, profile, enqueued, settings):
    run = enqueue(document, profile)
    ExtractionRun.objects.filter(pk=run.pk).update(
        queued_at=timezone.now() - timedelta(hours=1),
        not_before=timezone.now() + timedelta(minutes=5),
    )
    assert extraction_runs_sweep()["reenqueued"] == 0


def test_readyz_reports_the_queue(client, document, profile, enqueued):
    run = enqueue(document, profile)
    ExtractionRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - timedelta(seconds=42))
    response = client.get("/readyz")
    queue = response.json()["checks"]["queue"]
    assert queue["ok"] is True and queue["broker"] == "orm"
    assert queue["queued"] == 1
    assert 41 <= queue["oldest_queued_age_seconds"] < 60


def test_sweeper_cancels_a_lost_run_whose_cancel_was_requested(document, profile, enqueued):
    run = enqueue(document, profile)
    lease.claim(run.pk)
    ExtractionRun.objects.filter(pk=run.pk).update(
        cancel_requested=True, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    enqueued.clear()
    assert extraction_runs_sweep()["requeued"] == 0
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.finished_at
    assert enqueued == []
