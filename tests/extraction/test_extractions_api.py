"""The extraction API: profiles, start (202/409/422), list and filters, detail, cancel, retry,
Idempotency-Key, owner scoping, query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from extraction.models import ExtractionRun, IdempotencyRecord
from extraction.services.execution import extraction_run_execute
from llm.errors import RequestRejected
from tests.extraction.pipeline import ANSWER_DATA, make_document, seeded_profile

pytestmark = pytest.mark.django_db

Status = ExtractionRun.Status


@pytest.fixture(autouse=True)
def profiles():
    return seeded_profile("invoice"), seeded_profile("summary")


def start_url(document):
    return reverse("api:document-extractions", kwargs={"document_id": document.pk})


def start(api, document, body=None, **headers):
    return api.post(start_url(document), body or {"profile": "invoice"}, format="json", **headers)


def test_profiles_are_listed(api):
    response = api.get("/api/profiles/")
    assert response.status_code == 200
    slugs = [p["slug"] for p in response.json()]
    assert {"invoice", "summary"} <= set(slugs)
    invoice = next(p for p in response.json() if p["slug"] == "invoice")
    assert set(invoice["schema"]["properties"]) == {
        "invoice_number",
        "issue_date",
        "due_date",
        "seller_name",
        "seller_vat_id",
        "buyer_name",
        "currency",
        "subtotal",
        "tax_total",
        "total",
        "line_items",
    }
    items = invoice["schema"]["properties"]["line_items"]["items"]["properties"]
    assert set(items) == {"description", "quantity", "unit_price", "amount"}
    assert invoice["default_model"] == "gemini/gemini-2.5-flash"


def test_start_returns_202_with_location(api, document, enqueued):
    response = start(api, document)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert set(body) == {"id", "status", "url"}
    assert body["status"] == "queued"
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/extractions/{body['id']}/")
    run = ExtractionRun.objects.get(pk=body["id"])
    assert run.trigger == "api" and run.requested_by_id == document.owner_id


def test_second_start_while_active_is_409_with_the_active_id(api, document, enqueued):
    first = start(api, document).json()
    response = start(api, document)
    assert response.status_code == 409
    assert response.json()["code"] == "extraction_in_progress"
    assert response.json()["active_run_id"] == first["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"profile": "nope"}, 422, "unknown_profile"),
        ({"profile": "invoice", "model": "openai/nope"}, 422, "unknown_model"),
        ({"profile": "invoice", "transport": "carrier-pigeon"}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_bad_start_requests_say_why(api, document, enqueued, body, status, code):
    response = api.post(start_url(document), body, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not ExtractionRun.objects.exists()


def test_a_retired_model_is_refused_naming_its_replacement(api, document, enqueued):
    body = {"profile": "invoice", "model": "anthropic/claude-sonnet-4-5"}
    response = api.post(start_url(document), body, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "code": "model_retired",
        "detail": "anthropic/claude-sonnet-4-5 was retired on 2026-11-30. "
        "Use anthropic/claude-sonnet-4-6 instead.",
        "model": "anthropic/claude-sonnet-4-5",
        "retired_on": "2026-11-30",
        "replacement": "anthropic/claude-sonnet-4-6",
    }
    assert not ExtractionRun.objects.exists()


def test_other_users_documents_and_runs_are_404(api, document, enqueued, other_user):
    run_id = start(api, document).json()["id"]
    bob = APIClient()
    bob.force_authenticate(other_user)
    assert start(bob, document).status_code == 404
    assert bob.get(start_url(document)).status_code == 404
    assert bob.get(f"/api/extractions/{run_id}/").status_code == 404
    assert bob.post(f"/api/extractions/{run_id}/cancel/").status_code == 404
    assert bob.post(f"/api/extractions/{run_id}/retry/").status_code == 404
    assert bob.get("/api/extractions/").json()["count"] == 0


def test_anonymous_is_refused(anon_api, document):
    assert anon_api.get("/api/extractions/").status_code in (401, 403)
    assert start(anon_api, document).status_code in (401, 403)


def test_detail_after_success_shows_result_usage_attempts_and_simulated(
    api, document, enqueued, fake
):
    run_id = start(api, document, {"profile": "invoice", "transport": "inline"}).json()["id"]
    extraction_run_execute(run_id=run_id)
    body = api.get(f"/api/extractions/{run_id}/").json()
    assert body["status"] == "succeeded"
    assert body["result"] == ANSWER_DATA
    assert body["error"] is None
    assert body["requested_model"] == "gemini/gemini-2.5-flash"
    assert body["model_used"] == "gemini/gemini-2.5-flash"
    assert (body["route"], body["transport"]) == ("proxy", "inline")
    assert body["usage"] == {"input_tokens": 100, "output_tokens": 20, "document_tokens": 80}
    assert body["cost_usd"] == "0.001200"
    assert body["simulated"] is True
    assert [a["outcome"] for a in body["attempts"]] == ["ok"]
    timings = body["timings"]
    assert timings["started_at"] and timings["finished_at"] and timings["run_seconds"] >= 0


def test_detail_of_failure_has_error_code_and_message(api, document, enqueued, fake):
    fake.script = [RequestRejected("The schema is too deep for this model.", http_status=400)]
    run_id = start(api, document).json()["id"]
    extraction_run_execute(run_id=run_id)
    body = api.get(f"/api/extractions/{run_id}/").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "request_rejected"
    assert "too deep" in body["error"]["message"]


def test_cancel_then_retry(api, document, enqueued):
    run_id = start(api, document).json()["id"]
    response = api.post(f"/api/extractions/{run_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    retry = api.post(f"/api/extractions/{run_id}/retry/")
    assert retry.status_code == 202
    new = ExtractionRun.objects.get(pk=retry.json()["id"])
    assert str(new.redo_of_id) == run_id
    assert retry["Location"].endswith(f"/api/extractions/{new.pk}/")
    # The new run is active: retrying it is a conflict; so is retrying the old one again.
    assert api.post(f"/api/extractions/{new.pk}/retry/").status_code == 409
    assert api.post(f"/api/extractions/{run_id}/retry/").status_code == 409


def test_cancel_of_a_finished_run_is_409(api, document, enqueued, fake):
    run_id = start(api, document).json()["id"]
    extraction_run_execute(run_id=run_id)
    response = api.post(f"/api/extractions/{run_id}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "extraction_finished"
    assert response.json()["status"] == "succeeded"


def test_cancelling_a_cancelled_run_again_is_200_with_the_run_unchanged(api, document, enqueued):
    run_id = start(api, document).json()["id"]
    first = api.post(f"/api/extractions/{run_id}/cancel/")
    again = api.post(f"/api/extractions/{run_id}/cancel/")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["status"] == "cancelled" and again.json()["route"] == ""


def test_start_takes_json_only(api, document, enqueued):
    response = api.post(start_url(document), {"profile": "invoice"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not ExtractionRun.objects.exists()


def test_idempotency_key_same_body_same_response(api, document, enqueued):
    first = start(api, document, HTTP_IDEMPOTENCY_KEY="k-1")
    again = start(api, document, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert ExtractionRun.objects.count() == 1


def test_idempotency_key_with_another_body_is_422(api, document, enqueued):
    start(api, document, HTTP_IDEMPOTENCY_KEY="k-2")
    response = start(api, document, {"profile": "summary"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert ExtractionRun.objects.count() == 1


def test_idempotency_keys_are_per_user(api, document, enqueued, other_user):
    start(api, document, HTTP_IDEMPOTENCY_KEY="shared")
    bob = APIClient()
    bob.force_authenticate(other_user)
    bobs = make_document(other_user)
    assert start(bob, bobs, HTTP_IDEMPOTENCY_KEY="shared").status_code == 202
    assert IdempotencyRecord.objects.count() == 2


def test_list_filters_and_newest_first(api, user, enqueued, fake):
    doc_a = make_document(user)
    from tests.extraction.pipeline import PDFS

    doc_b = make_document(user, PDFS / "good" / "issue-140-example.pdf")
    a1 = start(api, doc_a).json()["id"]
    extraction_run_execute(run_id=a1)
    b1 = start(api, doc_b, {"profile": "summary", "model": "openai/gpt-4o"}).json()["id"]
    a2 = start(api, doc_a, {"profile": "summary"}).json()["id"]

    def ids(query=""):
        return [r["id"] for r in api.get(f"/api/extractions/{query}").json()["results"]]

    assert ids() == [a2, b1, a1]
    assert ids(f"?document={doc_a.pk}") == [a2, a1]
    assert ids("?profile=summary") == [a2, b1]
    assert ids("?status=succeeded") == [a1]
    assert ids("?status=queued") == [a2, b1]
    assert ids("?model=openai/gpt-4o") == [b1]
    assert ids("?route=proxy") == [a1]
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"?created_after={future}") == []
    assert ids(f"?created_before={future}") == [a2, b1, a1]
    page = api.get("/api/extractions/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2
    # The document's own history.
    history = api.get(start_url(doc_a)).json()["results"]
    assert [r["id"] for r in history] == [a2, a1]


def test_list_query_count_does_not_grow(api, user, enqueued, django_assert_max_num_queries):
    for i in range(6):
        doc = make_document(user, name=f"{i}.pdf")
        # Distinct documents need distinct bytes (unique owner+sha256).
        type(doc).objects.filter(pk=doc.pk).update(sha256=f"{i:064d}")
        start(api, doc)
    with django_assert_max_num_queries(4):
        response = api.get("/api/extractions/")
    assert response.json()["count"] == 6


def test_detail_query_count_is_constant(api, document, enqueued, fake, django_assert_num_queries):
    run_id = start(api, document).json()["id"]
    extraction_run_execute(run_id=run_id)
    with django_assert_num_queries(2):  # the run with its joins, its attempts
        api.get(f"/api/extractions/{run_id}/")


def upload(api, path, **headers):
    with path.open("rb") as fh:
        return api.post("/api/documents/", {"file": fh}, format="multipart", **headers)


def test_upload_idempotency_key_replays_and_refuses_another_file(api):
    from tests.extraction.pipeline import INVOICE_PDF, PDFS

    first = upload(api, INVOICE_PDF, HTTP_IDEMPOTENCY_KEY="up-1")
    assert first.status_code == 201, first.json()
    again = upload(api, INVOICE_PDF, HTTP_IDEMPOTENCY_KEY="up-1")
    assert again.status_code == 201  # the same response, not the 200 of a re-upload
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = upload(api, PDFS / "good" / "issue-140-example.pdf", HTTP_IDEMPOTENCY_KEY="up-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # Without a key: the usual dedupe (200, the same document).
    plain = upload(api, INVOICE_PDF)
    assert plain.status_code == 200 and plain.json()["id"] == first.json()["id"]


def test_a_concurrent_request_with_the_same_key_gets_the_winners_response(
    api, document, enqueued, monkeypatch
):
    from extraction.api import idempotency

    winner = start(api, document, HTTP_IDEMPOTENCY_KEY="race")
    # The loser checked for a stored response before the winner committed: it saw none, went on,
    # and hit the winner's active run (409) — it must answer with the winner's response instead.
    real_lookup = idempotency._lookup
    calls = []

    def lookup_before_the_winner_committed(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(idempotency, "_lookup", lookup_before_the_winner_committed)
    loser = start(api, document, HTTP_IDEMPOTENCY_KEY="race")
    assert len(calls) == 2
    assert loser.status_code == 202 and loser.json() == winner.json()
    assert ExtractionRun.objects.count() == 1


def test_an_expired_idempotency_key_starts_afresh(api, document, enqueued, settings):
    settings.IDEMPOTENCY_TTL_HOURS = 24
    first = start(api, document, HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    ExtractionRun.objects.update(status=ExtractionRun.Status.SUCCEEDED)  # not in progress
    again = start(api, document, HTTP_IDEMPOTENCY_KEY="k-old")
    assert again.status_code == 202 and "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.count() == 1


def test_expired_idempotency_records_are_purged_on_a_schedule(api, document, enqueued, settings):
    from django_q.models import Schedule

    from extraction.tasks_cleanup import purge_idempotency_records

    schedule = Schedule.objects.get(name="purge-idempotency-records")
    assert schedule.schedule_type == Schedule.HOURLY
    assert schedule.func == "extraction.tasks_cleanup.purge_idempotency_records"
    settings.IDEMPOTENCY_TTL_HOURS = 2
    start(api, document, HTTP_IDEMPOTENCY_KEY="k-a")
    start(api, document, {"profile": "summary"}, HTTP_IDEMPOTENCY_KEY="k-b")
    IdempotencyRecord.objects.filter(key="k-a").update(
        created_at=timezone.now() - timedelta(hours=3)
    )
    assert purge_idempotency_records() == {"deleted": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-b"]
