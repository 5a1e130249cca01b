from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from extraction.models import UploadedFile
from extraction.services import cleanup
from extraction.services.cleanup import (
    RemoteCopyInUse,
    uploaded_file_cleanup,
    uploaded_file_delete_remote,
)
from tests.factories import DocumentFactory, RemoteCopyFactory, RunFactory
from tests.fixtures.gateways import FakeGateway

pytestmark = pytest.mark.django_db


def test_cleanup_deletes_copies_of_deleted_documents_only_by_default(user, fake_gateway):
    gone = DocumentFactory(owner=user, original_name="gone.pdf")
    kept = DocumentFactory(owner=user, original_name="kept.pdf")
    orphan_row = RemoteCopyFactory(document=gone, bytes=300)
    live = RemoteCopyFactory(document=kept)
    gone.delete()

    report = uploaded_file_cleanup()

    assert fake_gateway.deleted == [orphan_row.remote_id]
    assert (report.files, report.bytes) == (1, 300)
    orphan_row.refresh_from_db()
    live.refresh_from_db()
    assert orphan_row.state == "deleted" and orphan_row.deleted_at is not None
    assert live.state == "active"


def test_cleanup_older_than_and_expired(user, fake_gateway):
    doc = DocumentFactory(owner=user)
    old = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=10), bytes=10)
    other = DocumentFactory(owner=user, original_name="b.pdf")
    expired = RemoteCopyFactory(
        document=other, expires_at=timezone.now() - timedelta(hours=1), bytes=20
    )
    fresh = RemoteCopyFactory(document=DocumentFactory(owner=user, original_name="c.pdf"), bytes=40)

    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert fake_gateway.deleted == [old.remote_id]
    assert [row.reason for row in report.rows] == ["older than 7d"]  # not "7 days, 0:00:00"
    report = uploaded_file_cleanup(expired=True)
    assert fake_gateway.deleted == [old.remote_id, expired.remote_id]
    assert report.bytes == 20
    fresh.refresh_from_db()
    assert fresh.state == "active"


def test_dry_run_changes_nothing(user, fake_gateway):
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30), bytes=5)
    report = uploaded_file_cleanup(older_than=timedelta(days=7), dry_run=True)
    assert [r.outcome for r in report.rows] == ["would_delete"]
    assert report.files == 1 and report.bytes == 5
    assert fake_gateway.deleted == []
    uf.refresh_from_db()
    assert uf.state == "active"


def test_cleanup_never_deletes_a_copy_used_by_a_queued_or_running_run(user, profile, fake_gateway):
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    RunFactory(document=doc, profile=profile, status="running")
    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert [r.outcome for r in report.rows] == ["skipped_in_use"]
    assert fake_gateway.deleted == []
    uf.refresh_from_db()
    assert uf.state == "active"


def test_cleanup_race_run_enqueued_after_selection_keeps_its_file(
    user, profile, fake_gateway, monkeypatch
):
    """A run queued between the selection and the deletion wins: the UPDATE re-checks."""
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    real_claim = cleanup._claim_for_deletion

    def claim_after_a_run_was_queued(uploaded_file, *, now):
        RunFactory(document=doc, profile=profile, status="queued")
        return real_claim(uploaded_file, now=now)

    monkeypatch.setattr(cleanup, "_claim_for_deletion", claim_after_a_run_was_queued)
    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert [r.outcome for r in report.rows] == ["skipped_in_use"]
    assert fake_gateway.deleted == []
    uf.refresh_from_db()
    assert uf.state == "active"


def test_cleanup_race_state_changed_after_selection_is_not_deleted(user, fake_gateway, monkeypatch):
    doc = DocumentFactory(owner=user)
    RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    real_claim = cleanup._claim_for_deletion

    def claim_after_someone_else_deleted(uploaded_file, *, now):
        UploadedFile.objects.filter(pk=uploaded_file.pk).update(state="deleted")
        return real_claim(uploaded_file, now=now)

    monkeypatch.setattr(cleanup, "_claim_for_deletion", claim_after_someone_else_deleted)
    uploaded_file_cleanup(older_than=timedelta(days=7))
    assert fake_gateway.deleted == []


def test_provider_error_puts_the_row_back(user, fake_gateway):
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    fake_gateway.delete_script = [RuntimeError("provider says no")]
    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert [r.outcome for r in report.rows] == ["error"]
    uf.refresh_from_db()
    assert uf.state == "active" and "provider says no" in uf.last_error


def test_delete_remote_copy_refuses_when_in_use(user, profile, fake_gateway):
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc)
    RunFactory(document=doc, profile=profile, status="queued")
    with pytest.raises(RemoteCopyInUse):
        uploaded_file_delete_remote(uploaded_file=uf)
    assert fake_gateway.deleted == []


def test_orphaned_deletes_only_unknown_provider_files(user, fake_gateway):
    doc = DocumentFactory(owner=user)
    known = RemoteCopyFactory(document=doc)
    fake_gateway.held = {known.remote_id: 1000, "files/stray": 777}
    report = uploaded_file_cleanup(orphaned=True)
    assert fake_gateway.deleted == ["files/stray"]
    assert report.files == 1 and report.bytes == 777


def test_orphaned_leaves_a_provider_alone_while_one_of_its_batch_jobs_is_open(user, fake_gateway):
    """An open job's input file (and, once it ends, its result file) is known by no
    UploadedFile until the job is collected: deleting it would lose the job's answers."""
    from extraction.models import ExtractionBatch

    known = RemoteCopyFactory(document=DocumentFactory(owner=user))
    fake_gateway.held = {known.remote_id: 1000, "files/job-input": 777}
    job = ExtractionBatch.objects.create(
        provider="gemini", model="gemini/gemini-2.5-flash", route="direct", status="running"
    )
    report = uploaded_file_cleanup(orphaned=True)
    assert fake_gateway.deleted == []
    assert [(r.outcome, r.detail.split(";")[0]) for r in report.rows] == [
        ("skipped_in_use", "batch jobs open (their input and result files)")
    ]
    ExtractionBatch.objects.filter(pk=job.pk).update(status="done")  # collected
    uploaded_file_cleanup(orphaned=True)
    assert fake_gateway.deleted == ["files/job-input"]


def test_orphaned_reports_providers_that_cannot_list(user, gateways):
    gateways.use(FakeGateway(lists_files=False))
    RemoteCopyFactory(document=DocumentFactory(owner=user), provider="anthropic")
    report = uploaded_file_cleanup(orphaned=True)
    assert [r.outcome for r in report.rows] == ["listing_unavailable"]


def test_cleanup_files_command_prints_table_and_totals(user, fake_gateway, capsys):
    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=9), bytes=2048)
    call_command("cleanup_files", "--older-than", "7d", "--dry-run")
    out = capsys.readouterr().out
    assert uf.remote_id in out
    assert "would delete 1 files, 2048 bytes" in out
    call_command("cleanup_files", "--older-than", "7d")
    assert "deleted 1 files, 2048 bytes" in capsys.readouterr().out


def test_cleanup_files_command_rejects_a_bad_duration():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid duration"):
        call_command("cleanup_files", "--older-than", "seven")


def test_retention_schedule_exists_and_task_applies_retention(user, fake_gateway, settings):
    from django_q.models import Schedule

    from extraction.tasks_cleanup import apply_remote_file_retention

    schedule = Schedule.objects.get(name="remote-file-retention")
    assert schedule.schedule_type == Schedule.DAILY
    settings.REMOTE_FILE_RETENTION_DAYS = 3
    RemoteCopyFactory(
        document=DocumentFactory(owner=user),
        uploaded_at=timezone.now() - timedelta(days=4),
        bytes=9,
    )
    RemoteCopyFactory(
        document=DocumentFactory(owner=user, original_name="x.pdf"),
        uploaded_at=timezone.now() - timedelta(days=2),
    )
    assert apply_remote_file_retention() == {"files": 1, "bytes": 9}


def test_cleanup_against_the_simulator_deletes_and_collects_orphans(user, direct_to_simulator):
    """Real gateways over HTTP: copies of a deleted document and unknown files are deleted,
    the copy of a live document stays at the provider."""
    from llm.gateways import get_gateway

    pdf = Path(__file__).resolve().parents[2] / "tests/fixtures/pdfs/good/issue-140-example.pdf"
    gateway = get_gateway("direct", "gemini")
    model = "gemini/gemini-2.5-flash"
    held = [gateway.upload(pdf, pdf.name, "application/pdf", model=model) for _ in range(3)]
    kept_doc, gone_doc = (
        DocumentFactory(owner=user, original_name="kept.pdf"),
        DocumentFactory(owner=user, original_name="g.pdf"),
    )
    kept = RemoteCopyFactory(
        document=kept_doc, remote_id=held[0].id, bytes=held[0].bytes, model_group=model
    )
    gone = RemoteCopyFactory(
        document=gone_doc, remote_id=held[1].id, bytes=held[1].bytes, model_group=model
    )
    gone_doc.delete()  # held[2] is an orphan: no UploadedFile knows it

    report = uploaded_file_cleanup(orphaned=True, providers=[("direct", "gemini")])

    outcomes = {r.remote_id: (r.reason, r.outcome) for r in report.rows}
    assert outcomes == {
        held[1].id: ("document deleted", "deleted"),
        held[2].id: ("orphan", "deleted"),
    }
    assert report.bytes == held[1].bytes + held[2].bytes
    remaining = {f.id for f in gateway.list_files()}
    assert held[0].id in remaining and held[1].id not in remaining and held[2].id not in remaining
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert (gone.state, kept.state) == ("deleted", "active")


def test_run_missed_by_the_update_snapshot_gets_its_copy_back(
    user, profile, fake_gateway, monkeypatch
):
    """PostgreSQL's READ COMMITTED gap: the UPDATE's NOT EXISTS did not see a run committed
    meanwhile (simulated by a subquery that finds nothing); the check after it does."""
    from django.db.models import Exists

    from extraction.models import ExtractionRun

    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    RunFactory(document=doc, profile=profile, status="queued")
    monkeypatch.setattr(cleanup, "_active_run_exists", lambda: Exists(ExtractionRun.objects.none()))
    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert [r.outcome for r in report.rows] == ["skipped_in_use"]
    assert fake_gateway.deleted == []
    uf.refresh_from_db()
    assert (uf.state, uf.deleted_at) == ("active", None)


def test_copy_replaced_by_a_new_upload_meanwhile_is_deleted(
    user, profile, fake_gateway, monkeypatch
):
    """The run saw the copy gone and started a new upload: the old copy is nobody's."""
    from django.db.models import Exists

    from extraction.models import ExtractionRun

    doc = DocumentFactory(owner=user)
    uf = RemoteCopyFactory(document=doc, uploaded_at=timezone.now() - timedelta(days=30))
    monkeypatch.setattr(cleanup, "_active_run_exists", lambda: Exists(ExtractionRun.objects.none()))

    def run_started_and_uploads_anew(uploaded_file):
        RunFactory(document=doc, profile=profile, status="running")
        UploadedFile.objects.create(
            document=doc, route=uf.route, provider=uf.provider, state="uploading"
        )
        return True

    monkeypatch.setattr(cleanup, "_document_has_active_run", run_started_and_uploads_anew)
    report = uploaded_file_cleanup(older_than=timedelta(days=7))
    assert [r.outcome for r in report.rows] == ["deleted"]
    assert fake_gateway.deleted == [uf.remote_id]


def _retry_when_locked(operation):
    """SQLite's shared-cache test database answers "table is locked" at once instead of waiting
    (the real file database waits: busy_timeout); PostgreSQL never raises it here."""
    import time

    from django.db import OperationalError

    for _ in range(200):
        try:
            return operation()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("still locked after 200 tries")


@pytest.mark.django_db(transaction=True)
def test_race_cleanup_against_runs_starting_concurrently(user, profile, gateways):
    """Two threads: the cleanup deletes old copies while runs start on the same documents and
    read their copy. No copy a run read as active is deleted at the provider."""
    import threading

    from django.db import connection

    from extraction.services.files import DocumentFileCache

    gateway = gateways.use(FakeGateway())
    old = timezone.now() - timedelta(days=30)
    documents = [DocumentFactory(owner=user, original_name=f"race-{i}.pdf") for i in range(40)]
    copies = {
        doc.pk: RemoteCopyFactory(document=doc, uploaded_at=old).remote_id for doc in documents
    }
    used, errors = [], []
    start = threading.Barrier(2)

    def start_run_and_read_copy(doc):
        RunFactory(document=doc, profile=profile, status="queued")
        live = DocumentFileCache(doc)._live(route="direct", provider="gemini")
        if live is not None and live.state == "active":
            used.append(live.remote_id)

    def worker():
        try:
            start.wait()
            # From the other end than the cleanup's order, so the two meet midway.
            for doc in reversed(documents):
                _retry_when_locked(lambda doc=doc: start_run_and_read_copy(doc))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def cleaner():
        try:
            start.wait()
            for _ in range(3):
                _retry_when_locked(lambda: uploaded_file_cleanup(older_than=timedelta(days=7)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker), threading.Thread(target=cleaner)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    # Which side wins each document varies from run to run (measured: from 40/0 to 8/28).
    print(f"race: {len(used)} copies used by runs, {len(gateway.deleted)} deleted")
    assert set(used).isdisjoint(gateway.deleted)
    states = dict(UploadedFile.objects.values_list("remote_id", "state"))
    assert all(states[remote_id] == "active" for remote_id in used)
    assert all(states[remote_id] == "deleted" for remote_id in gateway.deleted)
    assert set(states) == set(copies.values())
