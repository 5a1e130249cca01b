"""The `embedded` route over the real pipeline (django-q2 sync mode, the simulator over real HTTP):
an invoice run on a Factur-X / ZUGFeRD PDF is answered from its XML with no provider call and no
cost; `"source": "model"` runs the model; a bad XML falls back to the model with a warning."""

import hashlib

import pytest

from extraction.models import ExtractionRun
from extraction.verification.einvoice import invoice_from_xml
from extraction.verification.invoice_checks import INVOICE_CHECKS
from tests import pdfgen
from tests.extraction.pipeline import seeded_profile

pytestmark = pytest.mark.django_db

TRUTH = pdfgen.PDFS / "truth"
MUSTANG = TRUTH / "MustangBeispiel20221026.pdf"


@pytest.fixture(autouse=True)
def profiles():
    seeded_profile("invoice")
    seeded_profile("summary")


def upload_bytes(api, data: bytes, name: str = "invoice.pdf") -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/documents/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    assert response.status_code in (200, 201), response.content
    return response.json()["id"]


def extract(api, document_id, capture, **body):
    with capture(execute=True):  # the task runs on commit (sync mode)
        response = api.post(
            f"/api/documents/{document_id}/extractions/",
            {"profile": "invoice", **body},
            format="json",
        )
    assert response.status_code == 202, response.content
    return api.get(response["Location"]).json()


def test_factur_x_invoice_is_answered_from_its_xml_without_a_provider_call(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks)

    assert run["status"] == "succeeded", run["error"]
    assert run["route"] == "embedded"
    assert run["source"] == "auto"
    assert run["model_used"] == ""
    assert run["simulated"] is False
    assert run["cost_usd"] == "0.000000"
    assert run["usage"] == {"input_tokens": 0, "output_tokens": 0, "document_tokens": 0}
    assert run["attempts"] == []
    assert run["warnings"] == []
    assert run["result"]["invoice_number"] == "RE1001"
    assert run["result"]["total"] == 963.11  # the XML's, not the printed 963,12
    assert len(run["result"]["line_items"]) == 2
    assert direct_to_simulator.requests() == []  # no upload, no generation
    listed = api.get("/api/extractions/", {"route": "embedded"}).json()["results"]
    assert [r["id"] for r in listed] == [run["id"]]


def test_source_model_runs_the_model_on_an_e_invoice(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks, source="model")

    assert run["status"] == "succeeded", run["error"]
    assert run["source"] == "model"
    assert run["route"] == "direct"
    assert run["simulated"] is True
    assert [a["operation"] for a in run["attempts"]] == ["upload", "generate"]
    retried = api.post(f"/api/extractions/{run['id']}/retry/")
    assert ExtractionRun.objects.get(pk=retried.json()["id"]).source == "model"


def test_a_malformed_embedded_invoice_falls_back_to_the_model_with_a_warning(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    # A CII invoice root (so intake records it) with nothing an invoice needs.
    xml = (
        b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:"
        b"CrossIndustryInvoice:100'/>"
    )
    document_id = upload_bytes(api, pdfgen.pdf_with_attachment("factur-x.xml", xml))
    assert api.get(f"/api/documents/{document_id}/").json()["embedded_invoice"] == {
        "standard": "factur-x",
        "profile": None,
    }

    run = extract(api, document_id, django_capture_on_commit_callbacks)

    assert run["status"] == "succeeded", run["error"]
    assert run["route"] == "direct"
    assert [w["code"] for w in run["warnings"]] == ["embedded_invoice_unusable"]
    assert "no invoice_number and no total" in run["warnings"][0]["message"]


def test_an_xml_that_does_not_fit_an_edited_invoice_schema_falls_back(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    from extraction.services.profiles import extraction_profile_update

    profile = seeded_profile("invoice")
    schema = {**profile.schema}
    schema["properties"] = {**schema["properties"], "po_number": {"type": ["string", "null"]}}
    schema["required"] = [*schema["required"], "po_number"]
    extraction_profile_update(profile=profile, schema=schema)
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks)

    assert run["route"] == "direct"
    assert "schema" in run["warnings"][0]["message"]


def test_other_profiles_on_an_e_invoice_use_the_model(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks, profile="summary")

    assert run["route"] == "direct"
    assert run["warnings"] == []


def test_an_unknown_source_is_refused(api, storage_dir):
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    response = api.post(
        f"/api/documents/{document_id}/extractions/",
        {"profile": "invoice", "source": "xml"},
        format="json",
    )

    assert response.status_code == 400
    assert ExtractionRun.objects.count() == 0


def test_embedded_run_carries_the_invoice_checks(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks)

    checks = {c["rule"]: c for c in run["checks"]}
    assert list(checks) == INVOICE_CHECKS
    assert checks["totals_add_up"]["ok"] is True  # 809.34 + 153.77 = 963.11
    # The XML adds a 4.99 charge to its lines; the schema has no charges: a person looks.
    assert checks["lines_sum_to_subtotal"]["ok"] is False
    assert checks["due_date_not_before_issue_date"]["ok"] is None  # no due date: skipped
    assert run["needs_review"] is True


def test_source_model_compares_each_value_with_the_xml(
    api, direct_to_simulator, django_capture_on_commit_callbacks, storage_dir
):
    xml = (TRUTH / "MustangBeispiel20221026.factur-x.xml").read_bytes()
    printed = {**invoice_from_xml(xml), "total": 963.12}  # the page prints 963,12
    direct_to_simulator.next_answer(hashlib.sha256(MUSTANG.read_bytes()).hexdigest(), printed)
    document_id = upload_bytes(api, MUSTANG.read_bytes())

    run = extract(api, document_id, django_capture_on_commit_callbacks, source="model")

    assert run["route"] == "direct" and run["result"] == printed
    evidence = run["evidence"]
    assert evidence["total"]["status"] == "contradicts_embedded"
    assert evidence["total"]["embedded_value"] == 963.11
    assert evidence["invoice_number"]["status"] == "matches_embedded"
    assert evidence["line_items[1].amount"]["status"] == "matches_embedded"
    contradicted = [p for p, e in evidence.items() if e["status"] == "contradicts_embedded"]
    assert contradicted == ["total"]
    assert run["needs_review"] is True
