"""Runs over the real stack (API -> task -> direct gateway -> simulator over HTTP) whose answer a
test dictates per document: true values are verified on their page, altered ones are not found
and put the run in the review queue, answers about an image-only page are unverifiable."""

import hashlib

import pytest

from extraction.models import ExtractionRun
from tests.extraction.pipeline import seeded_profile
from tests.extraction.test_runs_simulator import extract, upload
from tests.pdfgen import PDFS

from .truth import TRUTH, true_answer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def invoice_profile():
    seeded_profile("invoice")


def run_with_answer(api, sim, capture, path, answer):
    sim.next_answer(hashlib.sha256(path.read_bytes()).hexdigest(), answer)
    # source "model": a document carrying an e-invoice would else be answered from its XML.
    run = extract(api, upload(api, path), capture, {"profile": "invoice", "source": "model"})
    assert run["status"] == "succeeded", run["error"]
    assert run["result"] == answer  # the dictated answer, not one filled from the text
    return run


# Review for reasons other than the text layer: Mustang's printed total (963.12) contradicts its
# embedded XML (963.11); coolblue1's line amounts include VAT while its subtotal does not, so
# the lines_sum_to_subtotal check fails.
REVIEWED_ANYWAY = {"MustangBeispiel20221026": True, "coolblue1": True, "AmazonWebServices": False}


@pytest.mark.parametrize("stem", ["MustangBeispiel20221026", "coolblue1", "AmazonWebServices"])
def test_true_answer_is_verified_on_its_page(
    api, direct_to_simulator, django_capture_on_commit_callbacks, stem
):
    path = TRUTH / f"{stem}.pdf"
    run = run_with_answer(
        api, direct_to_simulator, django_capture_on_commit_callbacks, path, true_answer(stem)
    )
    assert run["verification"]["not_found"] == 0
    assert run["verification"]["verified"] >= 4
    assert run["needs_review"] is REVIEWED_ANYWAY[stem]
    number = run["evidence"]["invoice_number"]
    # Mustang carries an e-invoice: the XML's verdict is the status, the text's is kept beside it.
    assert (number.get("text_status", number["status"]), number["page"]) == ("verified", 1)
    assert number["text"].replace(" ", "") == true_answer(stem)["invoice_number"].replace(" ", "")


def test_value_on_the_second_page_is_verified_there(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    answer = {**true_answer("free_fiber"), "due_date": "2015-07-31"}  # printed on page 2 only
    run = run_with_answer(
        api,
        direct_to_simulator,
        django_capture_on_commit_callbacks,
        TRUTH / "free_fiber.pdf",
        answer,
    )
    assert run["evidence"]["due_date"]["page"] == 2
    assert run["evidence"]["total"]["page"] == 1


def test_altered_answer_is_not_found_and_needs_review(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    answer = true_answer("coolblue1")
    altered = {
        "invoice_number": "993548090",  # digits swapped
        "seller_vat_id": "NL999999999B01",  # invented
        "issue_date": "2014-04-22",  # shifted by days
        "total": 717.98,  # off by a cent
    }
    answer.update(altered)
    answer["line_items"][0]["amount"] = 399.01
    run = run_with_answer(
        api,
        direct_to_simulator,
        django_capture_on_commit_callbacks,
        TRUTH / "coolblue1.pdf",
        answer,
    )
    for path in [*altered, "line_items[0].amount"]:
        assert run["evidence"][path] == {"status": "not_found"}, path
    assert run["evidence"]["subtotal"]["status"] == "verified"
    assert run["verification"]["not_found"] == 5
    assert run["needs_review"] is True
    queue = api.get("/api/extractions/?needs_review=true").json()["results"]
    assert [r["id"] for r in queue] == [run["id"]]
    assert ExtractionRun.objects.get(pk=run["id"]).needs_review is True


def test_answer_about_an_image_only_page_is_unverifiable(
    api, direct_to_simulator, django_capture_on_commit_callbacks
):
    answer = {**true_answer("coolblue1"), "line_items": []}
    run = run_with_answer(
        api,
        direct_to_simulator,
        django_capture_on_commit_callbacks,
        PDFS / "good" / "c02-22.pdf",
        answer,
    )
    assert run["evidence"]["invoice_number"] == {
        "status": "unverifiable",
        "reason": "no_text_layer",
    }
    assert run["verification"] == {"verified": 0, "not_found": 0, "unverifiable": 7}
    assert run["needs_review"] is False


def test_evidence_failure_leaves_the_run_succeeded_with_null_verification(
    api, direct_to_simulator, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("text layer exploded")

    monkeypatch.setattr("extraction.verification.service.evidence_compute", broken)
    run = run_with_answer(
        api,
        direct_to_simulator,
        django_capture_on_commit_callbacks,
        TRUTH / "coolblue1.pdf",
        true_answer("coolblue1"),
    )
    assert (run["evidence"], run["verification"]) == (None, None)
    # The checks still ran: coolblue1's lines include VAT, its subtotal does not.
    assert [c["rule"] for c in run["checks"] if c["ok"] is False] == ["lines_sum_to_subtotal"]
    assert run["needs_review"] is True
