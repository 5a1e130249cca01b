"""Bulk re-extraction as provider batch jobs (#16), end to end against the simulator (direct
SDK routes): `reextract --batch` groups the runs into jobs (documents uploaded first, referenced
by file id), the poll collects the results through the normal execution path (validation, repair
turn, verification, lease-guarded write, an attempt at the batch price), failed and expired items
go back to the normal queue, a killed ingestion resumes without writing anything twice, and
cancelling every run of a batch cancels it at the provider."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from extraction.models import ExtractionAttempt, ExtractionBatch, ExtractionRun, UploadedFile
from extraction.services import batch_ingest
from extraction.services.runs import extraction_run_cancel
from extraction.textpdf import write_text_pdf
from llm.cost import model_cost_with_source
from llm.gateways import get_gateway, reset_gateways
from llm.types import Usage
from tests.extraction.pipeline import make_document
from tests.factories import SIMPLE_SCHEMA, RunFactory
from tests.fixtures.simulator import FAKE_KEYS

pytestmark = pytest.mark.django_db
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def sim(direct_to_simulator):
    return direct_to_simulator


@pytest.fixture
def profile(db):
    from extraction.models import ExtractionProfile

    schema = {**SIMPLE_SCHEMA, "required": list(SIMPLE_SCHEMA["properties"])}
    return ExtractionProfile.objects.create(
        slug="batch-invoice",
        name="Batch invoice",
        instructions="Extract the invoice fields.",
        schema=schema | {"additionalProperties": False},
        default_model=MODEL,
    )


@pytest.fixture
def documents(user, profile, tmp_path):
    docs = []
    for n in range(4):
        path = tmp_path / f"invoice-{n}.pdf"
        write_text_pdf(path, [[f"Invoice number: INV-{n}", "Amount: 10.50", "Currency: EUR"]])
        doc = make_document(user, path)
        RunFactory(document=doc, profile=profile, model=MODEL)
        docs.append(doc)
    return docs


def reextract(profile, *args) -> str:
    out = io.StringIO()
    call_command(
        "reextract", "--profile", profile.slug, "--batch", *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def new_runs():
    return ExtractionRun.objects.filter(trigger="command")


def poll_until_done(capture):
    """The schedule's pass, with every batch due now (the back-off skipped)."""
    for _ in range(50):
        ExtractionBatch.objects.filter(status__in=ExtractionBatch.OPEN_STATUSES).update(
            next_poll_at=None
        )
        with capture(execute=True):
            batch_ingest.extraction_batches_poll()
        if not ExtractionBatch.objects.filter(status__in=ExtractionBatch.OPEN_STATUSES).exists():
            return
    raise AssertionError("batches still open")


def test_reextract_batch_sends_one_job_and_collects_it_at_half_price(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    out = reextract(profile)
    assert "Sent 4 runs as 1 provider batch jobs" in out
    batch = ExtractionBatch.objects.get()
    assert (batch.provider, batch.model, batch.status, batch.item_count) == (
        "openai",
        MODEL,
        "running",
        4,
    )
    assert batch.remote_id.startswith("batch_") and batch.submitted_at
    runs = new_runs()
    assert set(runs.values_list("status", "batch_id").distinct()) == {("batched", batch.pk)}
    # documents uploaded first, each once, and referenced by file id
    assert UploadedFile.objects.filter(provider="openai", state="active").count() == 4
    assert len(sim.requests(provider="openai", operation="generate")) == 0
    assert len(sim.requests(provider="openai", operation="batch_create")) == 1

    poll_until_done(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded_count, batch.requeued_count) == ("done", 4, 0)
    assert batch.finished_at and batch.cost_usd > 0
    # half price: saved as much as paid (each item rounded to the micro-dollar)
    assert abs(batch.savings_usd - batch.cost_usd) <= Decimal("0.000001") * 4
    for run in runs:
        assert run.status == "succeeded", run.error_message
        assert run.result["invoice_number"].startswith("INV-")
        assert run.simulated and run.batch_id == batch.pk
        assert run.verification is not None  # evidence computed as for a normal run
        [attempt] = ExtractionAttempt.objects.filter(run=run)
        assert (attempt.operation, attempt.outcome) == ("generate", "ok")
        usage = Usage(attempt.input_tokens, attempt.output_tokens, attempt.document_tokens)
        full, _ = model_cost_with_source(MODEL, usage)
        assert abs(run.cost_usd - full / 2) <= Decimal("0.000002")
    assert len(sim.requests(provider="openai", operation="generate")) == 0


def test_batch_items_are_priced_at_the_catalogs_discount_for_the_model(
    sim, profile, documents, settings, django_capture_on_commit_callbacks
):
    from llm.catalog import get_model, invalidate

    settings.LLM_MODELS_JSON = {MODEL: {"batch_discount": "0.3"}}  # not the usual half
    invalidate()
    assert get_model(MODEL).batch_discount == Decimal("0.3")
    reextract(profile)
    poll_until_done(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    full_total = Decimal(0)
    for run in new_runs():
        [attempt] = run.attempts.all()
        usage = Usage(attempt.input_tokens, attempt.output_tokens, attempt.document_tokens)
        full, _ = model_cost_with_source(MODEL, usage)
        full_total += full
        assert abs(run.cost_usd - full * Decimal("0.7")) <= Decimal("0.000002")
    assert abs(batch.cost_usd - full_total * Decimal("0.7")) <= Decimal("0.00001")
    assert abs(batch.savings_usd - full_total * Decimal("0.3")) <= Decimal("0.00001")


def test_runs_are_grouped_by_provider_and_model_within_each_providers_limits(
    sim, profile, documents, settings, django_capture_on_commit_callbacks
):
    from extraction.models import ExtractionProfile
    from extraction.services.bulk import extraction_runs_redo

    claude = ExtractionProfile.objects.create(
        slug="batch-invoice-claude",
        name="Batch invoice (Claude)",
        instructions=profile.instructions,
        schema=profile.schema,
        default_model="anthropic/claude-haiku-4-5",
    )
    settings.LLM_BATCH_LIMITS = {
        "openai": {"requests": 3, "bytes": 10_000_000},
        "anthropic": {"requests": 100, "bytes": 10_000_000},
    }
    latest = list(ExtractionRun.objects.all())
    # (the test queue runs each submission task at once)
    extraction_runs_redo(runs=latest, provider_batch=True)  # the profile's gpt-4o-mini
    extraction_runs_redo(runs=latest, profile=claude, provider_batch=True)
    created = list(ExtractionBatch.objects.all())
    jobs = sorted((b.provider, b.model, b.item_count) for b in created)
    assert jobs == [
        ("anthropic", "anthropic/claude-haiku-4-5", 4),
        ("openai", MODEL, 1),
        ("openai", MODEL, 3),  # OpenAI's limit here: 3 requests a job
    ]
    for batch in created:
        assert set(batch.runs.values_list("requested_model", flat=True)) == {batch.model}
    poll_until_done(django_capture_on_commit_callbacks)
    assert set(ExtractionBatch.objects.values_list("status", flat=True)) == {"done"}
    assert ExtractionRun.objects.filter(status="succeeded", batch__isnull=False).count() == 8


def test_failed_and_expired_items_go_back_to_the_normal_queue(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    reextract(profile, "--document", str(documents[0].pk), str(documents[1].pk))
    first = ExtractionBatch.objects.get()
    failing = str(first.runs.order_by("pk").first().pk)
    sim.batches(fail_ids=[failing], fail_status=500)
    poll_until_done(django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert (first.succeeded_count, first.requeued_count) == (1, 1)
    assert ExtractionRun.objects.get(pk=failing).status == "queued"
    assert [str(x) for x in enqueued] == [failing]

    sim.batches(fail_ids=[], expire=True)
    reextract(profile, "--document", str(documents[2].pk), str(documents[3].pk))
    expired = ExtractionBatch.objects.exclude(pk=first.pk).get()
    poll_until_done(django_capture_on_commit_callbacks)
    expired.refresh_from_db()
    assert (expired.status, expired.requeued_count) == ("expired", 2)
    assert set(expired.runs.values_list("status", flat=True)) == {"queued"}
    assert len(enqueued) == 3


def test_a_killed_ingestion_resumes_without_writing_twice(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    reextract(profile)
    real = batch_ingest._ingest_answer
    calls = []

    def dies_after_two(batch, run_id, generation):
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        calls.append(run_id)
        real(batch, run_id, generation)

    monkeypatch.setattr(batch_ingest, "_ingest_answer", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        poll_until_done(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    assert batch.status == "ingesting" and batch.succeeded_count == 2
    monkeypatch.setattr(batch_ingest, "_ingest_answer", real)
    poll_until_done(django_capture_on_commit_callbacks)  # the lease ran out: resumed
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded_count) == ("done", 4)
    assert set(new_runs().values_list("status", flat=True)) == {"succeeded"}
    assert ExtractionAttempt.objects.filter(run__in=new_runs()).count() == 4  # none twice


def test_a_worker_killed_just_after_writing_an_answer_loses_none_of_the_jobs_counts(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    reextract(profile)
    real = batch_ingest.extraction_run_execute
    written = []

    def killed_after_the_second_write(**kwargs):
        outcome = real(**kwargs)
        written.append(kwargs["run_id"])
        if len(written) == 2:
            raise KeyboardInterrupt("worker killed after the run's write")
        return outcome

    monkeypatch.setattr(batch_ingest, "extraction_run_execute", killed_after_the_second_write)
    with pytest.raises(KeyboardInterrupt):
        poll_until_done(django_capture_on_commit_callbacks)
    monkeypatch.setattr(batch_ingest, "extraction_run_execute", real)
    poll_until_done(django_capture_on_commit_callbacks)  # resumed
    batch = ExtractionBatch.objects.get()
    runs = new_runs()
    assert (batch.status, batch.succeeded_count) == ("done", 4)
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    assert batch.cost_usd == sum(run.cost_usd for run in runs)  # each answer counted once


def test_a_worker_killed_just_after_requeueing_a_failed_item_still_counts_it(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("extraction.queue.enqueue_task", lambda pk: None)
    reextract(profile)
    batch = ExtractionBatch.objects.get()
    failing = str(batch.runs.order_by("pk").first().pk)
    sim.batches(fail_ids=[failing], fail_status=500)
    real = batch_ingest.runs_requeue

    def killed_after_it(**kwargs):
        real(**kwargs)
        raise KeyboardInterrupt("worker killed after the failed item went back")

    monkeypatch.setattr(batch_ingest, "runs_requeue", killed_after_it)
    with pytest.raises(KeyboardInterrupt):
        poll_until_done(django_capture_on_commit_callbacks)
    assert ExtractionRun.objects.get(pk=failing).status == "queued"
    monkeypatch.setattr(batch_ingest, "runs_requeue", real)
    poll_until_done(django_capture_on_commit_callbacks)  # resumed
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded_count, batch.requeued_count) == ("done", 3, 1)


def test_cancelled_runs_are_ignored_and_an_all_cancelled_batch_is_cancelled_remotely(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    sim.batches(delay=60)
    reextract(profile)
    batch = ExtractionBatch.objects.get()
    for run in new_runs():
        assert extraction_run_cancel(run=run).status == "cancelled"
    poll_until_done(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert (batch.status, batch.ignored_count) == ("cancelled", 4)
    assert len(sim.requests(provider="openai", operation="batch_cancel")) == 1
    assert set(new_runs().values_list("status", flat=True)) == {"cancelled"}
    assert not ExtractionAttempt.objects.filter(run__in=new_runs()).exists()


def test_a_run_cancelled_while_its_answer_is_written_is_counted_once_as_ignored(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    from extraction.services.lease import Lease

    reextract(profile)
    batch = ExtractionBatch.objects.get()
    victim = batch.runs.order_by("pk").first()
    real_beat = Lease.beat

    def cancelled_as_the_answer_arrives(self):
        if str(self.run_id) == str(victim.pk):  # running: a cancel asks the execution to stop
            assert extraction_run_cancel(run=ExtractionRun.objects.get(pk=victim.pk))
        return real_beat(self)

    monkeypatch.setattr(Lease, "beat", cancelled_as_the_answer_arrives)
    poll_until_done(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    victim.refresh_from_db()
    assert victim.status == "cancelled"
    assert (batch.status, batch.succeeded_count, batch.ignored_count) == ("done", 3, 1)
    # Like an answer ignored because its run was cancelled before: not in the job's cost either.
    attempts = ExtractionAttempt.objects.filter(run__in=new_runs())
    assert (
        batch.cost_usd
        == sum(a.cost_usd for a in attempts)
        == sum(run.cost_usd for run in new_runs().filter(status="succeeded"))
    )


def test_cancelling_the_last_waiting_run_through_the_api_cancels_the_job_at_the_next_pass(
    sim, api, profile, documents, django_capture_on_commit_callbacks
):
    sim.batches(delay=60)
    reextract(profile)
    batch = ExtractionBatch.objects.get()
    ExtractionBatch.objects.update(next_poll_at=batch.next_poll_at + timedelta(minutes=15))
    *first, last = new_runs().order_by("pk")
    shown = api.get(f"/api/extractions/{last.pk}/").json()  # the run shows its job
    assert (shown["status"], shown["batch"]) == ("batched", str(batch.pk))
    listed = api.get("/api/extractions/", {"status": "batched"}).json()["results"]
    assert {r["batch"] for r in listed} == {str(batch.pk)} and len(listed) == 4
    for run in first:
        assert api.post(f"/api/extractions/{run.pk}/cancel/").json()["status"] == "cancelled"
    batch.refresh_from_db()
    assert batch.next_poll_at > timezone.now()  # a run still waits: the back-off stands
    assert api.post(f"/api/extractions/{last.pk}/cancel/").json()["status"] == "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        batch_ingest.extraction_batches_poll()  # the schedule's next pass, no back-off skipped
    assert len(sim.requests(provider="openai", operation="batch_cancel")) == 1
    batch.refresh_from_db()
    assert batch.status == "cancelling"


def test_a_job_ended_before_its_runs_were_cancelled_is_not_cancelled_but_ignored(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    reextract(profile)  # the simulator ends the job at once (delay 0)
    for run in new_runs():
        extraction_run_cancel(run=run)
    poll_until_done(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    assert (batch.status, batch.ignored_count, batch.succeeded_count) == ("done", 4, 0)
    assert not sim.requests(provider="openai", operation="batch_cancel")  # providers refuse it
    assert set(new_runs().values_list("status", flat=True)) == {"cancelled"}
    assert not ExtractionAttempt.objects.filter(run__in=new_runs()).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transport", "inline"], "--batch sends documents by file"),
        (["--transport", "inline", "--dry-run"], "--batch sends documents by file"),
        (["--model", "openai/no-such-model"], "Unknown model 'openai/no-such-model'"),
    ],
)
def test_batch_with_bad_options_is_a_command_error_and_starts_nothing(
    sim, profile, documents, args, message
):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        reextract(profile, *args)
    assert not new_runs().exists() and not ExtractionBatch.objects.exists()
    assert not sim.requests(provider="openai")


def test_admin_reextract_as_a_batch_job_and_the_batch_pages(
    sim, admin_client, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    from django.urls import reverse

    submitted = []
    monkeypatch.setattr("extraction.queue.enqueue_batch_submit", submitted.append)
    latest = ExtractionRun.objects.filter(document__in=documents[:2])

    def reextract_as_batch(transport):
        return admin_client.post(
            reverse("admin:extraction_extractionrun_changelist"),
            {
                "action": "reextract_action",
                "_selected_action": [str(pk) for pk in latest.values_list("pk", flat=True)],
                "apply": "1",
                "transport": transport,
                "as_batch": "on",
            },
        )

    assert reextract_as_batch("file").status_code == 302
    new = ExtractionRun.objects.filter(trigger="admin")
    assert set(new.values_list("status", flat=True)) == {"batched"}
    inline = reextract_as_batch("inline")  # a batch job with inline documents: refused
    assert inline.status_code == 200
    assert "A batch job sends documents by file, not inline." in inline.content.decode()
    assert new.count() == 2 and len(submitted) == 1  # nothing more started
    [ids] = submitted
    assert sorted(map(str, ids)) == sorted(str(pk) for pk in new.values_list("pk", flat=True))

    from extraction import tasks

    assert tasks.submit_batches([str(pk) for pk in ids]) == 1
    batch = ExtractionBatch.objects.get()
    assert batch.item_count == 2
    page = admin_client.get(reverse("admin:extraction_extractionbatch_change", args=[batch.pk]))
    assert page.status_code == 200 and b"2 runs" in page.content
    runs = admin_client.get(
        reverse("admin:extraction_extractionrun_changelist"), {"batch__id__exact": str(batch.pk)}
    )
    assert runs.status_code == 200 and runs.context["cl"].result_count == 2


def test_runs_stranded_by_a_stopped_submission_are_sent_by_the_poll(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from extraction.services.bulk import extraction_runs_reextract

    summary = extraction_runs_reextract(profile=profile, keep_ids=True)
    assert summary.batches == [] and summary.created == 4  # not a batch job (as if it stopped)
    ExtractionRun.objects.filter(pk__in=summary.run_ids).update(status="batched")
    poll_until_done(django_capture_on_commit_callbacks)
    assert not ExtractionBatch.objects.exists()  # recent: a submission may still be running
    ExtractionRun.objects.filter(pk__in=summary.run_ids).update(
        queued_at=timezone.now() - timedelta(minutes=11)
    )
    poll_until_done(django_capture_on_commit_callbacks)
    assert ExtractionBatch.objects.get().status == "done"
    assert set(new_runs().values_list("status", flat=True)) == {"succeeded"}


def test_a_run_its_profile_answers_in_segments_takes_the_normal_path(
    sim, user, profile, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from extraction.models import ExtractionProfile

    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "string"}}},
        "required": ["items"],
        "additionalProperties": False,
    }
    long_profile = ExtractionProfile.objects.create(
        slug="long-items",
        name="Long items",
        instructions="List the items.",
        schema=schema,
        segmenting={"arrays": {"items": {"mode": "segmented", "pages": 1, "overlap": 0}}},
        default_model=MODEL,
    )
    for n, pages in ((1, 1), (2, 3)):  # one page fits one segment; three pages do not
        path = tmp_path / f"items-{n}.pdf"
        write_text_pdf(path, [[f"Item {n}-{p}"] for p in range(pages)])
        RunFactory(document=make_document(user, path), profile=long_profile, model=MODEL)
    with django_capture_on_commit_callbacks(execute=True):
        reextract(long_profile)
    batch = ExtractionBatch.objects.get()
    assert batch.item_count == 1
    long_run = new_runs().get(document__page_count=3)
    assert (long_run.status, long_run.batch_id) == ("queued", None)
    assert enqueued == [long_run.pk]


def test_a_remote_copy_that_would_expire_during_the_job_is_uploaded_again(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    soon = UploadedFile.objects.create(
        document=documents[0],
        route="direct",
        provider="gemini",
        model_group="gemini/gemini-2.5-flash",
        remote_id="files/expiresinhours",
        bytes=1,
        state="active",
        expires_at=timezone.now() + timedelta(hours=2),  # Gemini: 48 h after upload
    )
    reextract(profile, "--model", "gemini/gemini-2.5-flash", "--document", str(documents[0].pk))
    soon.refresh_from_db()
    assert soon.state == "expired"
    fresh = UploadedFile.objects.get(document=documents[0], provider="gemini", state="active")
    assert fresh.expires_at > timezone.now() + timedelta(hours=24)
    poll_until_done(django_capture_on_commit_callbacks)
    assert new_runs().get().status == "succeeded"


def test_an_invalid_answer_in_the_batch_gets_its_repair_turn_as_a_normal_call(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    sim.fault("malformed_json", provider="openai", operation="batch_item")  # the first item
    reextract(profile, "--document", str(documents[0].pk))
    poll_until_done(django_capture_on_commit_callbacks)
    run = new_runs().get()
    assert run.status == "succeeded", run.error_message
    first, repair = run.attempts.all()
    assert (first.operation, first.outcome) == ("generate", "invalid_output")
    assert (repair.operation, repair.outcome) == ("repair", "ok")
    assert len(sim.requests(provider="openai", operation="generate")) == 1  # the repair turn
    for attempt, share in ((first, Decimal("0.5")), (repair, Decimal(1))):  # batch, then normal
        usage = Usage(attempt.input_tokens, attempt.output_tokens, attempt.document_tokens)
        full, _ = model_cost_with_source(MODEL, usage)
        assert abs(attempt.cost_usd - full * share) <= Decimal("0.000001")
    assert ExtractionBatch.objects.get().succeeded_count == 1


def test_the_poll_runs_every_minute_from_the_migrations_schedule():
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="poll-provider-batches")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)
    assert import_string(schedule.func) is __import__("extraction.tasks").tasks.poll_batches


def test_a_dry_run_says_batch_and_sends_nothing(sim, profile, documents):
    out = reextract(profile, "--dry-run")
    assert "Would re-extract 4 documents" in out and "as provider batch jobs" in out
    assert not ExtractionBatch.objects.exists() and not new_runs().exists()
    assert not sim.requests(provider="openai")


def test_a_long_ingestion_stops_in_time_and_resumes_at_the_next_poll(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(batch_ingest, "ingest_budget_seconds", lambda: 0)  # one item a pass
    reextract(profile)
    passes = 0
    while ExtractionBatch.objects.filter(status__in=ExtractionBatch.OPEN_STATUSES).exists():
        passes += 1
        assert passes < 10
        poll_until_done_once(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    assert (batch.status, batch.succeeded_count) == ("done", 4)
    assert passes >= 4  # the job's 4 answers, at most one written per pass
    assert ExtractionAttempt.objects.filter(run__in=new_runs()).count() == 4


def poll_until_done_once(capture):
    ExtractionBatch.objects.filter(status__in=ExtractionBatch.OPEN_STATUSES).update(
        next_poll_at=None
    )
    with capture(execute=True):
        batch_ingest.extraction_batches_poll()


def test_runs_that_cannot_be_sent_as_a_batch_take_the_normal_path(
    sim, profile, documents, settings, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    settings.OPENAI_API_KEY = ""  # no key for the provider's batch API (and no proxy)
    reset_gateways()
    with django_capture_on_commit_callbacks(execute=True):
        out = reextract(profile)
    assert "4 runs went to the normal queue instead" in out
    assert not ExtractionBatch.objects.exists()
    assert set(new_runs().values_list("status", flat=True)) == {"queued"}
    assert len(enqueued) == 4


def test_a_document_whose_file_is_gone_takes_the_normal_path_and_blocks_no_other(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    import os

    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    os.unlink(documents[1].file.path)  # lost from storage before its first upload
    with django_capture_on_commit_callbacks(execute=True):
        out = reextract(profile)
    assert "Sent 3 runs as 1 provider batch jobs" in out
    assert "1 runs went to the normal queue instead" in out
    gone = new_runs().get(document=documents[1])
    assert (gone.status, gone.batch_id) == ("queued", None) and enqueued == [gone.pk]
    assert ExtractionBatch.objects.get().item_count == 3


def test_admin_cancels_the_runs_of_a_batch_job_and_the_poll_cancels_it_remotely(
    sim, admin_client, profile, documents, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    sim.batches(delay=60)
    reextract(profile)
    batch = ExtractionBatch.objects.get()
    response = admin_client.post(
        reverse("admin:extraction_extractionbatch_changelist"),
        {"action": "cancel_action", "_selected_action": [str(batch.pk)]},
    )
    assert response.status_code == 302
    assert set(new_runs().values_list("status", flat=True)) == {"cancelled"}
    with django_capture_on_commit_callbacks(execute=True):
        batch_ingest.extraction_batches_poll()  # due at once: cancelled at the provider
    assert len(sim.requests(provider="openai", operation="batch_cancel")) == 1
    poll_until_done(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert batch.status == "cancelled"


def test_a_segment_copy_is_never_sent_as_the_whole_document(
    sim, profile, documents, django_capture_on_commit_callbacks
):
    UploadedFile.objects.create(  # an earlier segmented run's copy of pages 1-1 (#14)
        document=documents[0],
        route="direct",
        provider="openai",
        model_group=MODEL,
        remote_id="file-segment-copy",
        bytes=1,
        state="active",
        pages="1-1",
    )
    reextract(profile, "--document", str(documents[0].pk))
    whole = UploadedFile.objects.get(document=documents[0], provider="openai", pages="")
    batch = ExtractionBatch.objects.get()
    client = get_gateway("direct", "openai").client
    sent = client.files.content(batch.input_file_id).text  # the job's JSONL input
    assert whole.remote_id in sent and "file-segment-copy" not in sent
    poll_until_done(django_capture_on_commit_callbacks)
    assert new_runs().get().status == "succeeded"


def test_a_job_gone_at_the_provider_sends_its_runs_back_to_the_queue(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    reextract(profile)
    sim.fault(provider="openai", operation="batch_get", status=503)  # unreachable: wait
    poll_until_done_once(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    assert (batch.status, batch.poll_count) == ("running", 1)
    sim.fault(provider="openai", operation="batch_get", status=404)  # gone: give up
    poll_until_done_once(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert (batch.status, batch.requeued_count) == ("failed", 4)
    assert "404" in batch.error_message
    assert set(new_runs().values_list("status", flat=True)) == {"queued"} and len(enqueued) == 4


def test_runs_of_a_job_whose_submission_died_go_back_to_the_queue(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.core.management.base import CommandError
    from django.utils import timezone

    from llm import batches as llm_batches

    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)

    def dies(job_input, **kwargs):
        raise KeyboardInterrupt("worker killed before the provider answered")

    monkeypatch.setattr(llm_batches, "submit", dies)
    with pytest.raises(CommandError, match="Interrupted"):
        reextract(profile)
    monkeypatch.undo()
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    batch = ExtractionBatch.objects.get()
    assert batch.status == "submitting" and not batch.remote_id
    assert set(new_runs().values_list("status", "batch_id").distinct()) == {("batched", batch.pk)}
    poll_until_done_once(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert batch.status == "submitting" and not enqueued  # recent: it may still be submitting
    ExtractionBatch.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    poll_until_done_once(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert (batch.status, batch.requeued_count) == ("failed", 4)
    assert "submission stopped" in batch.error_message
    assert set(new_runs().values_list("status", flat=True)) == {"queued"} and len(enqueued) == 4
    assert len(sim.requests(provider="openai", operation="batch_create")) == 0


BATCH_MODELS = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-sonnet-4-6",
    "gemini": "gemini/gemini-2.5-flash",
}


def stored_text() -> str:
    rows = [
        *ExtractionBatch.objects.values(),
        *ExtractionRun.objects.values(),
        *ExtractionAttempt.objects.values(),
    ]
    return json.dumps(rows, default=str)


@pytest.mark.parametrize("provider", sorted(BATCH_MODELS))
def test_no_key_in_a_batchs_rows_or_log(
    direct_to_simulator, profile, documents, caplog, django_capture_on_commit_callbacks, provider
):
    sim = direct_to_simulator
    key = FAKE_KEYS[f"{provider.upper()}_API_KEY"]
    caplog.set_level(logging.DEBUG)
    command = ["reextract", "--profile", profile.slug, "--batch", "--model", BATCH_MODELS[provider]]
    # refused, the provider's message echoing the key (as a misconfigured proxy may)
    sim.fault(
        provider=provider, operation="batch_create", status=400, count=1, message=f"bad key {key}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command(*command, "--document", str(documents[0].pk), stdout=io.StringIO())
    refused = ExtractionBatch.objects.get()
    assert refused.status == "failed" and "bad key" in refused.error_message  # kept, but ...

    sim.batches(fail_ids=[], fail_status=500)
    call_command(*command, "--document", *(str(d.pk) for d in documents[1:]), stdout=io.StringIO())
    job = ExtractionBatch.objects.exclude(pk=refused.pk).get()
    failing = str(job.runs.order_by("pk").first().pk)
    sim.batches(fail_ids=[failing], fail_status=500)
    poll_until_done(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == "done" and job.succeeded_count == 2, job.error_message

    for name, secret in FAKE_KEYS.items():
        assert secret not in stored_text(), name  # ... without the key
        assert secret not in caplog.text, name


def test_an_e_invoice_answered_from_its_xml_takes_the_normal_path(
    sim, user, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    """An `invoice` run on a document carrying an embedded e-invoice is answered from the XML
    (no provider call, no cost): a batch job would pay for an answer that is thrown away."""
    from tests.extraction.pipeline import seeded_profile

    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    invoice = seeded_profile("invoice")
    for n, embedded in ((1, None), (2, {"standard": "factur-x", "profile": "en16931"})):
        path = tmp_path / f"invoice-{n}.pdf"
        write_text_pdf(path, [[f"Invoice number: INV-{n}", "Amount: 10.50"]])
        document = make_document(user, path)
        document.embedded_invoice = embedded
        document.save(update_fields=["embedded_invoice"])
        RunFactory(document=document, profile=invoice, model=MODEL)
    with django_capture_on_commit_callbacks(execute=True):
        out = reextract(invoice)
    assert "an e-invoice answered from its XML" in out
    batch = ExtractionBatch.objects.get()
    assert batch.item_count == 1
    plain = new_runs().get(document__embedded_invoice__isnull=True)
    assert (plain.status, plain.batch_id) == ("batched", batch.pk)
    e_invoice = new_runs().get(document__embedded_invoice__isnull=False)
    assert (e_invoice.status, e_invoice.batch_id) == ("queued", None)
    assert enqueued == [e_invoice.pk]
    # only the plain document was uploaded for the job
    assert list(UploadedFile.objects.values_list("document_id", flat=True)) == [plain.document_id]


@pytest.mark.parametrize("provider", sorted(BATCH_MODELS))
def test_a_collected_job_leaves_nothing_at_its_provider(
    sim, profile, documents, django_capture_on_commit_callbacks, provider
):
    """Once its answers are written, a job's input and result files (the extracted data) are
    deleted at the provider — cleanup_files --orphaned found them after every batch; an
    Anthropic job (no files) is deleted itself. The documents' own copies stay for reuse."""
    reextract(profile, "--model", BATCH_MODELS[provider])
    poll_until_done(django_capture_on_commit_callbacks)
    assert ExtractionBatch.objects.get().status == "done"
    assert set(new_runs().values_list("status", flat=True)) == {"succeeded"}
    kept = [f["filename"] for f in sim.files() if f["provider"] == provider and not f["gone"]]
    assert sorted(kept) == sorted(f"invoice-{n}.pdf" for n in range(4))
    if provider == "anthropic":
        assert len(sim.requests(provider="anthropic", operation="batch_delete")) == 1


@pytest.mark.parametrize("model", sorted(BATCH_MODELS.values()))
def test_an_answer_cut_in_the_batch_fails_its_run_as_output_truncated(
    sim, profile, documents, django_capture_on_commit_callbacks, model
):
    provider = model.partition("/")[0]
    sim.fault("truncated", provider=provider, operation="batch_item", count=1)
    reextract(profile, "--model", model, "--document", str(documents[0].pk))
    poll_until_done(django_capture_on_commit_callbacks)
    run = new_runs().get()
    assert (run.status, run.error_code) == ("failed", "output_truncated"), run.error_message
    assert run.result is None
    [attempt] = run.attempts.all()  # the batch's answer, never accepted, priced at the batch
    assert (attempt.outcome, attempt.error_code) == ("invalid_output", "output_truncated")


@pytest.mark.parametrize("provider", ["anthropic", "gemini"])
def test_every_run_of_an_expired_job_goes_back_to_the_queue_on_each_provider(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch, provider
):
    # (Gemini lists no item of an expired job: its runs go back as the ones left batched)
    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    sim.batches(expire=True)
    reextract(profile, "--model", BATCH_MODELS[provider])
    poll_until_done(django_capture_on_commit_callbacks)
    batch = ExtractionBatch.objects.get()
    assert (batch.provider, batch.status, batch.requeued_count) == (provider, "expired", 4)
    assert set(new_runs().values_list("status", flat=True)) == {"queued"}
    assert sorted(map(str, enqueued)) == sorted(
        str(pk) for pk in new_runs().values_list("pk", flat=True)
    )


def test_an_unfinished_job_is_polled_with_back_off(sim, profile, documents):
    sim.batches(delay=3600)
    reextract(profile)
    batch = ExtractionBatch.objects.get()
    assert batch.next_poll_at - batch.submitted_at == timedelta(seconds=30)
    batch_ingest.extraction_batches_poll()  # not due yet: the provider is not asked
    assert not sim.requests(provider="openai", operation="batch_get")
    delays = []
    for _ in range(7):
        ExtractionBatch.objects.update(next_poll_at=timezone.now())  # its time has come
        before = timezone.now()
        batch_ingest.extraction_batches_poll()
        batch.refresh_from_db()
        delays.append(round((batch.next_poll_at - before).total_seconds()))
    assert delays == [30, 60, 120, 300, 600, 900, 900]
    assert (batch.status, batch.poll_count) == ("running", 7)
    assert len(sim.requests(provider="openai", operation="batch_get")) == 7


def test_one_batch_submission_at_a_time(
    sim, profile, documents, django_capture_on_commit_callbacks, monkeypatch
):
    """Two submissions at once would both send the runs neither has marked yet (each paid
    twice): while one holds the lock, another waits for it, then leaves its runs waiting."""
    from django.core.cache import cache

    from extraction.services import batches as batch_service

    monkeypatch.setattr(batch_service, "LOCK_WAIT_SECONDS", 0.2)
    assert cache.add(batch_service.SUBMIT_LOCK, "another submitter", timeout=60)
    out = reextract(profile)
    assert "Sent 0 runs as 0 provider batch jobs" in out
    assert "4 runs wait for the next submission" in out and "normal queue" not in out
    assert not ExtractionBatch.objects.exists() and not sim.requests(provider="openai")
    assert set(new_runs().values_list("status", "batch_id").distinct()) == {("batched", None)}
    assert cache.get(batch_service.SUBMIT_LOCK) == "another submitter"  # not ours to free

    cache.delete(batch_service.SUBMIT_LOCK)  # that submission ended
    ExtractionRun.objects.filter(status="batched").update(
        queued_at=timezone.now() - timedelta(minutes=11)
    )
    poll_until_done(django_capture_on_commit_callbacks)  # the schedule sends them, once
    assert ExtractionBatch.objects.get().item_count == 4
    assert set(new_runs().values_list("status", flat=True)) == {"succeeded"}
    assert cache.get(batch_service.SUBMIT_LOCK) is None  # freed after the submission


def test_a_document_over_the_models_limits_takes_the_normal_path(
    sim,
    user,
    profile,
    documents,
    tmp_path,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """The provider would reject it only when the job ends (up to 24 h later); the normal path
    answers it now (map-reduce, fallback models, or document_too_large_for_models)."""
    from llm.catalog import invalidate

    enqueued = []
    monkeypatch.setattr("extraction.queue.enqueue_task", enqueued.append)
    settings.LLM_MODELS_JSON = {MODEL: {"max_pages": 2}}
    invalidate()
    path = tmp_path / "long.pdf"
    write_text_pdf(path, [["Invoice number: INV-LONG"], ["Amount: 1.00"], ["Currency: EUR"]])
    long_document = make_document(user, path)
    RunFactory(document=long_document, profile=profile, model=MODEL)
    with django_capture_on_commit_callbacks(execute=True):
        out = reextract(profile)
    assert "1 runs went to the normal queue instead" in out
    assert ExtractionBatch.objects.get().item_count == 4  # the four one-page invoices
    long_run = new_runs().get(document=long_document)
    assert (long_run.status, long_run.batch_id) == ("queued", None)
    assert enqueued == [long_run.pk]
    assert not UploadedFile.objects.filter(document=long_document).exists()  # not uploaded
