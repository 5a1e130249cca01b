"""The API shows human corrections: reviewed_result, who and when, and the final result."""

import pytest

from extraction.services.execution import extraction_run_execute
from extraction.services.review import extraction_run_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def succeeded_run(api, document, enqueued, fake):
    run_id = api.post(
        f"/api/documents/{document.pk}/extractions/", {"profile": "invoice"}, format="json"
    ).json()["id"]
    extraction_run_execute(run_id=run_id)
    from extraction.models import ExtractionRun

    return ExtractionRun.objects.get(pk=run_id)


def test_unreviewed_run_has_null_review_and_the_models_result_as_final(api, succeeded_run):
    body = api.get(f"/api/extractions/{succeeded_run.pk}/").json()
    assert body["reviewed_result"] is None
    assert body["reviewed_by"] is None and body["reviewed_at"] is None
    assert body["final"] == body["result"] == succeeded_run.result


def test_reviewed_run_shows_the_correction_its_reviewer_and_time(
    api, succeeded_run, django_user_model
):
    reviewer = django_user_model.objects.create_user(username="rita", password="pw-rita-123")
    corrected = {**succeeded_run.result, "invoice_number": "INV-CORRECTED"}
    extraction_run_review(run=succeeded_run, reviewed_result=corrected, reviewer=reviewer)
    succeeded_run.refresh_from_db()

    body = api.get(f"/api/extractions/{succeeded_run.pk}/").json()
    assert body["result"] == succeeded_run.result  # the model's output is kept
    assert body["reviewed_result"] == corrected
    assert body["final"] == corrected
    assert body["reviewed_by"] == "rita"
    assert body["reviewed_at"].startswith(succeeded_run.reviewed_at.isoformat()[:19])


def test_review_of_a_deleted_reviewer_keeps_the_correction(api, succeeded_run, django_user_model):
    reviewer = django_user_model.objects.create_user(username="gone", password="pw-gone-123")
    corrected = {**succeeded_run.result, "total": 1.5}
    extraction_run_review(run=succeeded_run, reviewed_result=corrected, reviewer=reviewer)
    reviewer.delete()
    body = api.get(f"/api/extractions/{succeeded_run.pk}/").json()
    assert body["reviewed_by"] is None and body["final"] == corrected


def test_detail_with_a_review_is_still_two_queries(
    api, succeeded_run, django_user_model, django_assert_num_queries
):
    reviewer = django_user_model.objects.create_user(username="rita", password="pw-rita-123")
    result = succeeded_run.result
    extraction_run_review(run=succeeded_run, reviewed_result=result, reviewer=reviewer)
    with django_assert_num_queries(2):
        api.get(f"/api/extractions/{succeeded_run.pk}/")


def test_schema_documents_the_review_fields(api):
    schema = api.get("/api/schema/?format=json").json()
    detail = schema["components"]["schemas"]["ExtractionRunDetail"]["properties"]
    assert {"reviewed_result", "reviewed_by", "reviewed_at", "final"} <= set(detail)
