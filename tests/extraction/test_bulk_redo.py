"""extraction_runs_redo (services/bulk.py), called directly: the admin's re-extract action and
`reextract --batch` go through it (their own tests: admin/test_admin.py, test_batches.py)."""

import pytest

from extraction.models import ExtractionRun
from extraction.services.bulk import extraction_runs_redo
from llm.errors import UnknownModel
from tests.factories import DocumentFactory, ProfileFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(user):
    profile = ProfileFactory(slug="redo", default_model="gemini/gemini-2.5-flash")
    return [
        RunFactory(document=DocumentFactory(owner=user), profile=profile, status=status)
        for status in ("succeeded", "failed")
    ]


def test_each_run_is_redone_once_and_queued_after_commit(
    two_runs, user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        summary = extraction_runs_redo(runs=two_runs, requested_by=user)
        assert enqueued == []  # nothing reaches the queue before the runs are committed
    for callback in callbacks:
        callback()
    new = ExtractionRun.objects.filter(redo_of__in=two_runs)
    assert (summary.candidates, summary.created, summary.skipped_conflict) == (2, 2, 0)
    assert sorted(enqueued) == sorted(r.pk for r in new) == sorted(summary.run_ids)
    for run in new:
        assert (run.status, run.trigger, run.profile, run.requested_by) == (
            "queued", "admin", two_runs[0].profile, user,
        )  # fmt: skip
        assert run.document_id == run.redo_of.document_id and run.owner_id == user.pk


def test_a_document_busy_with_that_profile_is_skipped(two_runs, enqueued):
    busy = two_runs[0]
    RunFactory(document=busy.document, profile=busy.profile, status="running")
    summary = extraction_runs_redo(runs=two_runs)
    assert (summary.created, summary.skipped_conflict) == (1, 1)
    assert not ExtractionRun.objects.filter(redo_of=busy).exists()


def test_an_unknown_model_inserts_nothing(two_runs, enqueued):
    before = ExtractionRun.objects.count()
    with pytest.raises(UnknownModel):
        extraction_runs_redo(runs=two_runs, model="acme/no-such-model")
    assert ExtractionRun.objects.count() == before and enqueued == []
