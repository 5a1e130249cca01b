"""Evidence on the real PDFs: true values are verified on their page, altered ones never are."""

import logging

import pytest

from extraction.models import DocumentPage, DocumentTextLayer, ExtractionRun
from extraction.verification import textlayer
from extraction.verification.evidence import evidence_compute, evidence_counts
from extraction.verification.service import needs_review, run_verification_compute
from tests.extraction.pipeline import make_document
from tests.pdfgen import PDFS

from .truth import TRUTH, true_answer

pytestmark = pytest.mark.django_db


def evidence_for(user, stem_or_path, answer):
    path = stem_or_path if hasattr(stem_or_path, "read_bytes") else TRUTH / f"{stem_or_path}.pdf"
    return evidence_compute(document=make_document(user, path), result=answer)


@pytest.mark.parametrize(
    "stem",
    ["MustangBeispiel20221026", "AmazonWebServices", "FlipkartInvoice", "coolblue1", "free_fiber"],
)
def test_true_values_are_verified_with_page_text_and_box(user, storage_dir, stem):
    answer = true_answer(stem)
    evidence = evidence_for(user, stem, answer)
    for path, entry in evidence.items():
        if entry["status"] == "null":
            continue
        assert entry["status"] == "verified", (path, entry)
        assert entry["page"] == 1
        left, bottom, right, top = entry["bbox"]
        assert 0 <= left < right <= 842 and 0 <= bottom < top <= 842
        assert 1 <= len(entry["occurrences"]) <= 3
    assert evidence_counts(evidence)["not_found"] == 0


def test_line_items_are_addressed_by_json_path(user, storage_dir):
    evidence = evidence_for(user, "coolblue1", true_answer("coolblue1"))
    assert evidence["line_items[2].description"]["text"] == "Nintendo 3DS XL Wit + Blauw"
    assert evidence["line_items[0].amount"]["status"] == "verified"
    assert evidence["due_date"] == {"status": "null"}


def test_value_on_the_second_page_is_verified_there(user, storage_dir):
    evidence = evidence_for(user, "free_fiber", {"date_end": "2015-07-31", "total": 29.99})
    assert evidence["date_end"]["page"] == 2
    assert evidence["total"]["page"] == 1


@pytest.mark.parametrize(
    ("stem", "path", "altered"),
    [
        ("AmazonWebServices", "invoice_number", "42183071"),  # digits swapped
        ("coolblue1", "invoice_number", "993548090"),
        ("FlipkartInvoice", "invoice_number", "#BLR_WFLD20151000928590"),
        ("coolblue1", "seller_vat_id", "NL810433914B01"),
        ("MustangBeispiel20221026", "invoice_number", "RE1002"),  # invented
        ("MustangBeispiel20221026", "invoice_number", "RE100"),  # a prefix of the real one
        ("AmazonWebServices", "invoice_number", "INV-2014-0815"),
        ("AmazonWebServices", "issue_date", "2014-08-05"),  # shifted by days
        ("coolblue1", "issue_date", "2014-04-21"),
        ("MustangBeispiel20221026", "issue_date", "2022-10-24"),
        ("FlipkartInvoice", "issue_date", "2015-10-22"),
        ("AmazonWebServices", "total", 4.12),  # off by cents
        ("MustangBeispiel20221026", "total", 963.11),
        ("coolblue1", "total", 717.79),
        ("coolblue1", "subtotal", 593.63),
        ("FlipkartInvoice", "total", 319.01),
    ],
)
def test_altered_values_are_not_found(user, storage_dir, stem, path, altered):
    answer = true_answer(stem)
    answer[path] = altered
    evidence = evidence_for(user, stem, answer)
    assert evidence[path] == {"status": "not_found"}
    assert needs_review(evidence=evidence, checks=[])


def test_image_only_page_makes_every_value_unverifiable(user, storage_dir):
    evidence = evidence_for(
        user, PDFS / "good" / "c02-22.pdf", {"title": "Huckleberry Finn", "page": 22, "x": None}
    )
    assert evidence["title"] == {"status": "unverifiable", "reason": "no_text_layer"}
    assert evidence["page"]["status"] == "unverifiable"
    assert evidence_counts(evidence) == {"verified": 0, "not_found": 0, "unverifiable": 2}
    page = DocumentPage.objects.get(number=1)
    assert page.kind == "image_only" and page.text == ""


def test_text_layer_is_built_once_and_reused(user, storage_dir, monkeypatch):
    document = make_document(user, TRUTH / "free_fiber.pdf")
    evidence_compute(document=document, result={"total": 29.99})
    layer = DocumentTextLayer.objects.get(document=document)
    assert (layer.page_count, layer.text_pages, layer.version) == (
        2,
        2,
        textlayer.TEXT_LAYER_VERSION,
    )
    assert DocumentPage.objects.filter(document=document).count() == 2

    def no_parsing(path):
        raise AssertionError("the stored text layer should have been used")

    monkeypatch.setattr(textlayer, "_extract_pages", no_parsing)
    evidence = evidence_compute(document=document, result={"total": 29.99})
    assert evidence["total"]["status"] == "verified"


def test_page_that_fails_to_parse_is_marked_and_not_fatal(user, storage_dir, monkeypatch):
    real = textlayer._extract_page

    def second_page_breaks(pdf, index):
        if index == 1:
            raise RuntimeError("broken content stream")
        return real(pdf, index)

    monkeypatch.setattr(textlayer, "_extract_page", second_page_breaks)
    document = make_document(user, TRUTH / "free_fiber.pdf")
    evidence = evidence_compute(
        document=document, result={"total": 29.99, "date_end": "2015-07-31", "id": "X-999"}
    )
    assert evidence["total"]["status"] == "verified"
    # Not in the pages that could be read: it may be on the failed one.
    assert evidence["date_end"] == {"status": "unverifiable", "reason": "pages_without_text"}
    assert DocumentPage.objects.get(document=document, number=2).kind == "failed"
    assert DocumentTextLayer.objects.get(document=document).failed_pages == 1


def test_evidence_error_is_logged_and_gives_null_verification(
    user, storage_dir, monkeypatch, caplog
):
    document = make_document(user, TRUTH / "free_fiber.pdf")
    run = ExtractionRun(document=document)

    def explode(**kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("extraction.verification.service.evidence_compute", explode)
    with caplog.at_level(logging.ERROR):
        outcome = run_verification_compute(run=run, result={"total": 1})
    assert outcome.fields() == {
        "evidence": None,
        "verification": None,
        "checks": [],
        "needs_review": False,
    }
    assert "could not be computed" in caplog.text


def test_needs_review_from_not_found_contradiction_or_failed_check():
    verified = {"a": {"status": "verified"}, "b": {"status": "null"}}
    assert not needs_review(evidence=verified, checks=[{"rule": "r", "ok": None, "detail": ""}])
    assert needs_review(evidence={"a": {"status": "contradicts_embedded"}}, checks=[])
    assert needs_review(evidence=verified, checks=[{"rule": "r", "ok": False, "detail": ""}])
    assert not needs_review(evidence=None, checks=[])
