"""The remote-file cache over UploadedFile, document deletion, and the profile services."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from extraction.models import Document, UploadedFile
from extraction.services.documents import document_delete
from extraction.services.files import DocumentFileCache
from extraction.services.profiles import (
    InvalidProfileSchema,
    UnknownModel,
    extraction_profile_update,
)
from llm.types import RemoteFile
from tests.extraction.pipeline import make_document, seeded_profile
from tests.fixtures.gateways import FakeGateway

State = UploadedFile.State


class Uploader:
    def __init__(self, delay: float = 0.0, expires_in: timedelta | None = None):
        self.count = 0
        self.delay = delay
        self.expires_in = expires_in

    def __call__(self) -> RemoteFile:
        self.count += 1
        time.sleep(self.delay)
        expires = timezone.now() + self.expires_in if self.expires_in else None
        return RemoteFile(id=f"file-{self.count}-{'x' * 200}", bytes=1234, expires_at=expires)


def get(cache, upload, route="proxy", provider="gemini"):
    return cache.get_or_upload(
        route=route, provider=provider, model="gemini/gemini-2.5-flash", upload=upload
    )


@pytest.mark.django_db
def test_reuses_an_active_unexpired_copy(user):
    cache = DocumentFileCache(make_document(user))
    upload = Uploader(expires_in=timedelta(hours=48))
    first = get(cache, upload)
    again = get(cache, upload)
    assert upload.count == 1 and first.id == again.id and len(first.id) > 200
    row = UploadedFile.objects.get()
    assert (row.state, row.bytes) == (State.ACTIVE, 1234)
    assert (row.route, row.provider) == ("proxy", "gemini")
    assert row.uploaded_at and row.expires_at


@pytest.mark.django_db
def test_reuploads_when_the_copy_expired_or_expires_soon(user, settings):
    settings.EXTRACTION_REMOTE_FILE_MARGIN_SECONDS = 900
    cache = DocumentFileCache(make_document(user))
    upload = Uploader(expires_in=timedelta(minutes=5))  # inside the safety margin
    get(cache, upload)
    second = get(cache, upload)
    assert upload.count == 2 and second.id.startswith("file-2")
    assert sorted(UploadedFile.objects.values_list("state", flat=True)) == [
        State.ACTIVE,
        State.EXPIRED,
    ]


@pytest.mark.django_db
def test_mark_gone_expires_the_copy_and_the_next_call_uploads_again(user):
    cache = DocumentFileCache(make_document(user))
    upload = Uploader()
    remote = get(cache, upload)
    cache.mark_gone(route="proxy", provider="gemini", remote_id=remote.id)
    assert UploadedFile.objects.get().state == State.EXPIRED
    assert get(cache, upload).id != remote.id
    assert upload.count == 2


@pytest.mark.django_db
def test_copies_are_kept_per_route_and_provider(user):
    cache = DocumentFileCache(make_document(user))
    upload = Uploader()
    proxy = get(cache, upload, route="proxy")
    direct = get(cache, upload, route="direct")  # after a proxy failure: its own upload
    other = get(cache, upload, route="direct", provider="openai")
    assert len({proxy.id, direct.id, other.id}) == 3
    assert UploadedFile.objects.filter(state=State.ACTIVE).count() == 3


@pytest.mark.django_db
def test_a_failed_upload_is_recorded_and_the_next_run_tries_again(user):
    cache = DocumentFileCache(make_document(user))

    def broken():
        raise ConnectionError("reset by peer, key sk-abcdefghijklmnopqrst")

    with pytest.raises(ConnectionError):
        get(cache, broken)
    row = UploadedFile.objects.get()
    assert row.state == State.FAILED and "reset by peer" in row.last_error
    assert "sk-abcdefghijklmnopqrst" not in row.last_error
    get(cache, Uploader())
    assert UploadedFile.objects.filter(state=State.ACTIVE).count() == 1


@pytest.mark.django_db
def test_an_abandoned_upload_is_taken_over(user, settings):
    settings.EXTRACTION_UPLOAD_WAIT_SECONDS = 60
    document = make_document(user)
    row = UploadedFile.objects.create(document=document, route="proxy", provider="gemini")
    UploadedFile.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    upload = Uploader()
    get(DocumentFileCache(document), upload)
    assert upload.count == 1
    row.refresh_from_db()
    assert row.state == State.FAILED


@pytest.mark.django_db(transaction=True)
def test_two_runs_needing_the_same_copy_upload_it_once(user, settings):
    settings.EXTRACTION_UPLOAD_POLL_SECONDS = 0.05
    document = make_document(user)
    upload = Uploader(delay=0.5)
    results = []

    def worker():
        try:
            for _ in range(50):
                try:
                    results.append(get(DocumentFileCache(document), upload).id)
                    return
                except OperationalError:
                    # SQLite's shared-cache in-memory test database locks whole tables and
                    # ignores the busy timeout; a file database (and PostgreSQL) waits instead.
                    time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert upload.count == 1
    assert len(results) == 2 and results[0] == results[1]
    assert UploadedFile.objects.count() == 1


@pytest.mark.django_db
def test_deleting_a_document_deletes_its_remote_copies_after_commit(
    user, gateways, django_capture_on_commit_callbacks
):
    provider = gateways.use(FakeGateway())
    document = make_document(user)
    stored = document.file.name
    storage = document.file.storage
    cache = DocumentFileCache(document)
    remote = get(cache, Uploader())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_delete(document=document)
    assert provider.deletes == []  # nothing happens before commit
    for callback in callbacks:
        callback()
    assert provider.deletes == [(remote.id, "gemini/gemini-2.5-flash")]
    row = UploadedFile.objects.get()
    assert row.state == State.DELETED and row.deleted_at and row.document_id is None
    assert not Document.objects.exists()
    assert not storage.exists(stored)


@pytest.mark.django_db
def test_profile_update_checks_the_schema_and_bumps_the_version():
    profile = seeded_profile("invoice")
    version = profile.version
    with pytest.raises(InvalidProfileSchema):
        extraction_profile_update(profile=profile, schema={"type": "object", "required": 5})
    with pytest.raises(UnknownModel):
        extraction_profile_update(profile=profile, default_model="nope/nope")
    profile.refresh_from_db()
    assert profile.version == version
    profile = extraction_profile_update(profile=profile, instructions="Only the total.")
    assert profile.version == version + 1
    assert extraction_profile_update(profile=profile, instructions="Only the total.").version == (
        version + 1
    )


@pytest.mark.django_db
def test_a_document_in_remote_storage_is_copied_to_a_temporary_file(user):
    from django.core.files.base import ContentFile
    from django.core.files.storage import InMemoryStorage

    from extraction.services.files import document_local_path

    document = make_document(user)
    data = document.file.read()
    storage = InMemoryStorage()
    name = storage.save("documents/x.pdf", ContentFile(data))

    def no_local_path(name):  # like S3Storage
        raise NotImplementedError("This backend doesn't support absolute paths.")

    storage.path = no_local_path
    document.file.storage, document.file.name = storage, name
    with document_local_path(document) as path:
        assert path.read_bytes() == data
        copy = path
    assert not copy.exists()


@pytest.mark.django_db
def test_an_upload_whose_run_lost_its_lease_is_taken_over_at_once(user, settings):
    import uuid

    from extraction.models import ExtractionRun
    from extraction.services.runs import extraction_run_enqueue

    settings.EXTRACTION_UPLOAD_WAIT_SECONDS = 3600
    document = make_document(user)
    run = extraction_run_enqueue(
        document=document, profile=seeded_profile("invoice"), trigger="api"
    )
    dead_lease = uuid.uuid4()
    ExtractionRun.objects.filter(pk=run.pk).update(status="running", lease_token=dead_lease)
    row = UploadedFile.objects.create(
        document=document, route="direct", provider="gemini", upload_lease=dead_lease
    )
    cache = DocumentFileCache(document, lease=uuid.uuid4())
    # While the uploading run holds its lease, others wait (here: would wait an hour).
    assert not cache._abandoned(row, timezone.now())
    # Its worker died and the sweeper took the run back: the next run uploads at once.
    ExtractionRun.objects.filter(pk=run.pk).update(status="queued", lease_token=None)
    upload = Uploader()
    get(cache, upload, route="direct")
    assert upload.count == 1
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert UploadedFile.objects.get(state=State.ACTIVE).upload_lease is None


@pytest.mark.django_db
def test_a_document_deleted_meanwhile_stops_the_upload(user):
    from extraction.services.files import DocumentGone

    document = make_document(user)
    cache = DocumentFileCache(document)
    Document.objects.filter(pk=document.pk).delete()
    upload = Uploader()
    with pytest.raises(DocumentGone):
        get(cache, upload)
    assert upload.count == 0
