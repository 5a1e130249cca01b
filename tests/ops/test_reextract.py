import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from extraction.models import Document, ExtractionRun
from tests.factories import DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db

A, B = "gemini/gemini-2.5-flash", "openai/gpt-4o-mini"


@pytest.fixture
def enqueued(monkeypatch):
    """Records the run ids handed to the queue (the queue itself is tested elsewhere)."""
    ids = []
    monkeypatch.setattr("extraction.queue.enqueue_task", ids.append)
    return ids


def _call(*args):
    out = io.StringIO()
    call_command("reextract", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def history(user, profile):
    old = timezone.now() - timedelta(days=10)
    d1, d2, d3, d4 = (DocumentFactory(owner=user, original_name=f"{n}.pdf") for n in "abcd")
    RunFactory(document=d1, profile=profile, model=B)  # superseded by the next run of d1
    latest_d1 = RunFactory(document=d1, profile=profile, model=A)
    failed_d2 = RunFactory(document=d2, profile=profile, status="failed", model=B)
    RunFactory(document=d3, profile=profile, status="queued")
    old_d4 = RunFactory(document=d4, profile=profile, model=B)
    ExtractionRun.objects.filter(pk=old_d4.pk).update(created_at=old)
    return {"d1": latest_d1, "d2": failed_d2, "d4": old_d4, "docs": (d1, d2, d3, d4)}


def test_reextract_queues_a_run_per_document_with_redo_of_and_trigger(
    history, profile, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = _call("--profile", profile.slug, "--model", B)
    assert "Queued 3 re-extractions" in out and "skipped 1 with a queued or running run" in out
    new = ExtractionRun.objects.filter(trigger="command")
    assert new.count() == 3 == len(enqueued)
    assert set(new.values_list("redo_of_id", flat=True)) == {
        history["d1"].pk,
        history["d2"].pk,
        history["d4"].pk,
    }
    assert set(new.values_list("requested_model", "status", "profile_version").distinct()) == {
        (B, "queued", profile.version)
    }
    assert sorted(map(str, enqueued)) == sorted(str(pk) for pk in new.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--failed-only"], {"d2"}),
        (["--status", "failed", "--status", "succeeded"], {"d1", "d2", "d4"}),
        (["--from-model", B], {"d2", "d4"}),
        (["--from-model", A], {"d1"}),
        (["--until", "5d"], {"d4"}),
        (["--since", "5d"], {"d1", "d2"}),
    ],
)
def test_reextract_filters_on_each_documents_latest_run(history, profile, enqueued, args, expected):
    _call("--profile", profile.slug, *args)
    redone = set(
        ExtractionRun.objects.filter(trigger="command").values_list("redo_of_id", flat=True)
    )
    assert redone == {history[k].pk for k in expected}


def test_reextract_document_and_limit(history, profile, enqueued):
    d2 = history["docs"][1]
    _call("--profile", profile.slug, "--document", str(d2.pk), str(uuid.uuid4()))
    assert ExtractionRun.objects.filter(trigger="command").get().document == d2
    _call("--profile", profile.slug, "--limit", "1", "--failed-only")
    assert ExtractionRun.objects.filter(trigger="command").count() == 1  # d2 now queued


def test_dry_run_prints_the_count_and_a_sample_and_enqueues_nothing(history, profile, enqueued):
    out = _call("--profile", profile.slug, "--dry-run")
    assert out.startswith("Would re-extract 3 documents")
    assert "Sample:" in out and "a.pdf" in out and "Skipped: 1" in out
    assert not ExtractionRun.objects.filter(trigger="command").exists() and enqueued == []
    assert _call("--profile", profile.slug, "--dry-run", "--limit", "2").startswith(
        "Would re-extract 2 documents"
    )


@pytest.mark.django_db(transaction=True)
def test_reextract_wait_follows_runs_to_completion(history, profile, monkeypatch):
    def finish_at_once(run_id):
        ExtractionRun.objects.filter(pk=run_id).update(
            status="succeeded", finished_at=timezone.now(), simulated=simulated
        )

    simulated = False

    monkeypatch.setattr("extraction.queue.enqueue_task", finish_at_once)
    out = _call(
        "--profile",
        profile.slug,
        "--failed-only",
        "--wait",
        "--poll",
        "0.01",
        "--timeout",
        "20",
    )
    assert "Finished: 1 succeeded, 0 failed, 0 cancelled." in out
    assert "SIMULATED" not in out
    # answered by the provider simulator (make run): the summary says so
    simulated = True
    out = _call("--profile", profile.slug, "--wait", "--poll", "0.01", "--timeout", "20")
    assert "SIMULATED: 3 of these runs were answered by the provider simulator" in out


def test_reextract_enqueues_real_queue_tasks(
    history, profile, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)
    with django_capture_on_commit_callbacks(execute=True):
        _call("--profile", profile.slug)
    assert OrmQ.objects.count() == 3


def test_reextract_rejects_bad_input(profile):
    with pytest.raises(CommandError, match="unknown profile"):
        _call("--profile", "nope")
    with pytest.raises(CommandError, match="Unknown model"):
        _call("--profile", profile.slug, "--model", "nope/x")
    with pytest.raises(CommandError, match="is not a document id"):
        _call("--profile", profile.slug, "--document", "12")
    with pytest.raises(CommandError, match="invalid date"):
        _call("--profile", profile.slug, "--since", "yesterday-ish")


def _bulk_documents_with_runs(owner, profile, n):
    now = timezone.now()
    documents = [
        Document(
            owner=owner,
            original_name=f"doc-{i}.pdf",
            file=f"documents/bulk/{i}.pdf",
            sha256=f"{i:064x}",
            size_bytes=1000,
            page_count=1,
        )
        for i in range(n)
    ]
    Document.objects.bulk_create(documents, batch_size=2000)
    runs = [
        ExtractionRun(
            document=d,
            profile=profile,
            profile_version=1,
            instructions="x",
            schema=profile.schema,
            requested_model=A,
            model_used=A,
            status="failed" if i % 10 == 0 else "succeeded",
            queued_at=now,
        )
        for i, d in enumerate(documents)
    ]
    ExtractionRun.objects.bulk_create(runs, batch_size=2000)


def test_reextract_over_ten_thousand_documents_in_batches(
    user, profile, enqueued, django_assert_max_num_queries
):
    _bulk_documents_with_runs(user, profile, 10_000)
    assert _call("--profile", profile.slug, "--dry-run").startswith(
        "Would re-extract 10000 documents"
    )
    assert _call("--profile", profile.slug, "--failed-only", "--dry-run").startswith(
        "Would re-extract 1000 documents"
    )
    # Batched, never a query per document (SQLite splits each bulk insert into statements of
    # ~30 rows because of its bound-parameter limit; PostgreSQL needs a few per batch).
    with django_assert_max_num_queries(1000):
        out = _call("--profile", profile.slug, "--batch-size", "1000")
    assert "Queued 10000 re-extractions" in out
    new = ExtractionRun.objects.filter(trigger="command")
    assert new.count() == 10_000
    assert not new.filter(redo_of__isnull=True).exists()
    assert ExtractionRun.objects.count() == 20_000
