"""Intake records the embedded e-invoice on the Document; the API and the profiles show it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from extraction.models import Document, ExtractionProfile
from extraction.services.profiles import UnknownCheck, extraction_profile_update
from extraction.verification.invoice_checks import INVOICE_CHECKS
from tests import pdfgen

pytestmark = pytest.mark.django_db

TRUTH = pdfgen.PDFS / "truth"


def upload(api, data: bytes, name: str):
    response = api.post(
        "/api/documents/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_upload_of_a_factur_x_pdf_records_its_embedded_invoice(api, storage_dir):
    body = upload(api, (TRUTH / "MustangBeispiel20221026.pdf").read_bytes(), "re1001.pdf")

    assert body["embedded_invoice"] == {"standard": "factur-x", "profile": "en16931"}
    stored = Document.objects.get(pk=body["id"]).embedded_invoice
    assert stored["filename"] == "factur-x.xml"
    assert stored["guideline"] == "urn:cen.eu:en16931:2017"
    detail = api.get(f"/api/documents/{body['id']}/").json()
    assert detail["embedded_invoice"] == body["embedded_invoice"]


def test_upload_of_a_zugferd_1_pdf(api, storage_dir):
    path = TRUTH / "MustangGnuaccountingBeispielRE-20170509_505.pdf"
    body = upload(api, path.read_bytes(), "re.pdf")

    assert body["embedded_invoice"] == {"standard": "zugferd", "profile": "basic"}


def test_upload_of_an_ordinary_invoice_has_none(api, storage_dir):
    body = upload(api, (TRUTH / "AmazonWebServices.pdf").read_bytes(), "aws.pdf")

    assert body["embedded_invoice"] is None
    listed = api.get("/api/documents/").json()["results"]
    assert listed[0]["embedded_invoice"] is None


def test_upload_with_a_malformed_invoice_xml_is_accepted_without_one(api, storage_dir):
    data = pdfgen.pdf_with_attachment("factur-x.xml", b"<rsm:CrossIndustryInvoice")
    body = upload(api, data, "broken.pdf")

    assert body["embedded_invoice"] is None


def test_corrupt_factur_x_is_refused_as_unreadable_at_intake(api, storage_dir):
    data = (pdfgen.PDFS / "bad" / "corrupt-factur-x-waytoosmall.pdf").read_bytes()
    response = api.post(
        "/api/documents/", {"file": SimpleUploadedFile("c.pdf", data)}, format="multipart"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "pdf_unreadable"


def test_the_invoice_profile_lists_its_checks(api):
    profiles = {p["slug"]: p for p in api.get("/api/profiles/").json()}

    assert profiles["invoice"]["checks"] == INVOICE_CHECKS
    assert profiles["summary"]["checks"] == []


def test_a_profile_cannot_list_an_unknown_check():
    profile = ExtractionProfile.objects.get(slug="summary")

    with pytest.raises(UnknownCheck) as raised:
        extraction_profile_update(profile=profile, checks=["totals_add_up", "no_such_rule"])
    assert raised.value.status_code == 422
    profile.refresh_from_db()
    assert profile.checks == []


def test_a_profile_adds_a_registered_check_and_its_version_goes_up():
    profile = ExtractionProfile.objects.get(slug="summary")

    updated = extraction_profile_update(profile=profile, checks=["currency_iso4217"])

    assert updated.checks == ["currency_iso4217"]
    assert updated.version == profile.version + 1


def test_admin_shows_and_filters_the_embedded_invoice(admin_client, admin_user, storage_dir):
    from django.core.files import File
    from django.urls import reverse

    from extraction.services.intake import document_ingest
    from tests.factories import DocumentFactory

    with (TRUTH / "MustangBeispiel20221026.pdf").open("rb") as fh:
        document, _ = document_ingest(owner=admin_user, upload=File(fh, name="re1001.pdf"))
    DocumentFactory(original_name="plain.pdf")
    changelist = reverse("admin:extraction_document_changelist")

    with_one = admin_client.get(changelist, {"embedded_invoice": "yes"}).content
    without = admin_client.get(changelist, {"embedded_invoice": "no"}).content
    page = admin_client.get(reverse("admin:extraction_document_change", args=[document.pk]))

    assert b"re1001.pdf" in with_one and b"plain.pdf" not in with_one
    assert b"plain.pdf" in without and b"re1001.pdf" not in without
    assert b"factur-x (cii), profile en16931" in page.content
    assert b"urn:cen.eu:en16931:2017" in page.content


def test_admin_profile_form_refuses_an_unknown_check(admin_client):
    from django.urls import reverse

    profile = ExtractionProfile.objects.get(slug="summary")
    url = reverse("admin:extraction_extractionprofile_change", args=[profile.pk])
    form = {
        "name": profile.name,
        "instructions": profile.instructions,
        "schema": json.dumps(profile.schema),
        "default_model": profile.default_model,
        "fallback_models": json.dumps(profile.fallback_models),
        "checks": '["totals_add_up", "no_such_rule"]',
    }

    refused = admin_client.post(url, form)
    form["checks"] = '["currency_iso4217"]'
    accepted = admin_client.post(url, form)

    assert refused.status_code == 200 and b"no_such_rule" in refused.content
    assert accepted.status_code == 302
    profile.refresh_from_db()
    assert profile.checks == ["currency_iso4217"]
