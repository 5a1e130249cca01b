"""The pipeline over the real LLM stack in this process (django-q2 sync mode): llm.service,
the direct gateways and the provider simulator over real HTTP. Runs on SQLite and PostgreSQL;
the separate-process cluster is tests/extraction/test_qcluster.py."""

import pytest

from extraction.models import ExtractionAttempt, ExtractionRun, UploadedFile
from extraction.services.runs import extraction_run_cancel
from llm.gateways import gateways_from, get_gateway
from tests import pdfgen
from tests.extraction.pipeline import INVOICE_PDF, seeded_profile
from tests.fixtures.gateways import FakeGateway

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def profiles():
    seeded_profile("invoice")
    seeded_profile("summary")


def upload(api, path):
    with path.open("rb") as fh:
        response = api.post("/api/documents/", {"file": fh}, format="multipart")
    assert response.status_code in (200, 201), response.content
    return response.json()["id"]


def extract(api, document_id, capture, body=None):
    with capture(execute=True):  # the task runs on commit (sync mode)
        response = api.post(
            f"/api/documents/{document_id}/extractions/",
            body or {"profile": "invoice"},
            format="json",
        )
    assert response.status_code == 202, response.content
    return api.get(response["Location"]).json()


def uploads(simulator, provider="gemini"):
    calls = simulator.requests(provider=provider, operation="upload")
    return [c for c in calls if "upload_id=" not in c["path"]]  # Gemini's resumable: 2 calls


def test_upload_extract_and_reuse_the_remote_copy(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    sim = direct_to_simulator
    document_id = upload(api, INVOICE_PDF)
    first = extract(api, document_id, django_capture_on_commit_callbacks)
    assert first["status"] == "succeeded", first["error"]
    assert first["simulated"] is True
    assert (first["route"], first["model_used"]) == ("direct", "gemini/gemini-2.5-flash")
    assert [a["operation"] for a in first["attempts"]] == ["upload", "generate"]
    assert first["cost_usd"] is not None and first["cost_source"] == "catalog"  # direct: our prices

    second = extract(api, document_id, django_capture_on_commit_callbacks)
    assert second["status"] == "succeeded"
    assert [a["operation"] for a in second["attempts"]] == ["generate"]  # the copy was reused
    assert len(uploads(sim)) == 1
    assert UploadedFile.objects.filter(state="active").count() == 1


def test_inline_transport_sends_the_pdf_without_uploading(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    document_id = upload(api, INVOICE_PDF)
    run = extract(
        api,
        document_id,
        django_capture_on_commit_callbacks,
        {"profile": "summary", "transport": "inline"},
    )
    assert run["status"] == "succeeded", run["error"]
    assert run["transport"] == "inline"
    assert uploads(direct_to_simulator) == [] and not UploadedFile.objects.exists()


def test_a_300_page_pdf_is_routed_to_gemini_not_openai(
    api, direct_to_simulator, django_capture_on_commit_callbacks, tmp_path
):
    path = pdfgen.write_letter_pdf(tmp_path / "three-hundred-pages.pdf", 300)
    document_id = upload(api, path)
    run = extract(
        api,
        document_id,
        django_capture_on_commit_callbacks,
        # summary: one call when a model takes the document (invoice lines would be segmented)
        {"profile": "summary", "model": "openai/gpt-4o"},
    )
    assert run["status"] == "succeeded", run["error"]
    assert run["requested_model"] == "openai/gpt-4o"
    assert run["model_used"] == "gemini/gemini-2.5-flash"
    assert not direct_to_simulator.requests(provider="openai")
    assert not direct_to_simulator.requests(provider="anthropic")


def test_deleting_the_document_deletes_its_remote_copy(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    document_id = upload(api, INVOICE_PDF)
    extract(api, document_id, django_capture_on_commit_callbacks)
    remote = UploadedFile.objects.get()
    assert any(f["id"] in remote.remote_id for f in direct_to_simulator.files())
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/documents/{document_id}/").status_code == 204
    remote.refresh_from_db()
    assert remote.state == "deleted" and remote.document_id is None
    assert direct_to_simulator.requests(provider="gemini", operation="delete")
    assert not ExtractionRun.objects.exists() and not ExtractionAttempt.objects.exists()


def test_a_provider_refusal_ends_with_the_documented_code_and_the_providers_own_beside_it(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    direct_to_simulator.fault(provider="openai", operation="generate", status=400)
    document_id = upload(api, INVOICE_PDF)
    run = extract(
        api,
        document_id,
        django_capture_on_commit_callbacks,
        {"profile": "invoice", "model": "openai/gpt-4o", "transport": "inline"},
    )
    assert run["status"] == "failed"
    assert run["error"]["code"] == "request_rejected"
    assert run["error"]["provider_code"] == "invalid_request_error"
    failed = [a for a in run["attempts"] if a["error_code"]]
    assert failed and all(a["error_code"] == "request_rejected" for a in failed)
    assert failed[-1]["provider_code"] == "invalid_request_error"


# --- runs that end without an answer ---------------------------------------------------------
# A run cancelled while running, or failed, keeps the model and route its calls went to and says
# `simulated` when the provider simulator answered them.


def test_cancel_during_the_call_keeps_model_route_usage_and_simulated(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    gemini = get_gateway("direct", "gemini")  # the real one, to the simulator

    class CancelledMeanwhile(FakeGateway):
        def upload(self, *args, **kwargs):
            return gemini.upload(*args, **kwargs)

        def generate(self, request):
            generation = gemini.generate(request)  # the simulator answered...
            run = ExtractionRun.objects.get(status="running")
            extraction_run_cancel(run=run)  # ...while the user cancelled
            return generation

    document_id = upload(api, INVOICE_PDF)
    with gateways_from(lambda route, provider: CancelledMeanwhile(route, provider)):
        run = extract(api, document_id, django_capture_on_commit_callbacks)

    assert run["status"] == "cancelled"
    assert (run["model_used"], run["route"]) == ("gemini/gemini-2.5-flash", "direct")
    assert run["simulated"] is True
    assert run["usage"]["input_tokens"] and run["cost_usd"] is not None
    assert run["result"] is None


def test_failed_run_refused_by_the_simulator_is_simulated_with_its_model_and_route(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    direct_to_simulator.fault(provider="gemini", operation="generate", status=400)
    document_id = upload(api, INVOICE_PDF)
    run = extract(api, document_id, django_capture_on_commit_callbacks)

    assert run["status"] == "failed"
    assert (run["model_used"], run["route"]) == ("gemini/gemini-2.5-flash", "direct")
    assert run["simulated"] is True


def test_a_run_that_made_no_model_call_names_no_model(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    direct_to_simulator.fault(provider="gemini", operation="upload", status=400)
    document_id = upload(api, INVOICE_PDF)
    run = extract(api, document_id, django_capture_on_commit_callbacks)
    assert run["status"] == "failed"
    assert (run["model_used"], run["route"]) == ("", "")


@pytest.mark.parametrize(
    "model", ["openai/gpt-4o", "gemini/gemini-2.5-flash", "anthropic/claude-haiku-4-5"]
)
def test_an_answer_cut_at_the_token_limit_fails_the_run_with_output_truncated(
    api, direct_to_simulator, django_capture_on_commit_callbacks, model
):
    provider = model.split("/")[0]
    direct_to_simulator.fault("truncated", provider=provider, operation="generate")
    document_id = upload(api, INVOICE_PDF)
    run = extract(
        api,
        document_id,
        django_capture_on_commit_callbacks,
        {"profile": "invoice", "model": model, "transport": "inline"},
    )
    assert run["status"] == "failed" and run["result"] is None
    assert run["error"]["code"] == "output_truncated"
    assert "segments" in run["error"]["message"]
    assert [a["operation"] for a in run["attempts"]] == ["generate"]  # no repair turn
    assert len(direct_to_simulator.requests(provider=provider, operation="generate")) == 1
    stored = ExtractionRun.objects.get()
    assert stored.raw_output  # the partial answer is kept
