"""The API shows a run's evidence, its counts and checks; the list filters on needs_review."""

import pytest

from extraction.models import ExtractionRun
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = pytest.mark.django_db

EVIDENCE = {
    "invoice_number": {
        "status": "verified",
        "page": 1,
        "text": "RE1001",
        "bbox": [134.5, 623.8, 185.2, 634.9],
        "occurrences": [{"page": 1, "text": "RE1001", "bbox": [134.5, 623.8, 185.2, 634.9]}],
    },
    "total": {"status": "not_found"},
    "due_date": {"status": "null"},
}
COUNTS = {"verified": 1, "not_found": 1, "unverifiable": 0}
CHECKS = [{"rule": "totals_add_up", "ok": False, "detail": "1 + 1 = 2, total 3"}]


def make_run(user, *, name, needs_review, evidence=None, verification=None, checks=()):
    document = make_document(user, name=name)
    type(document).objects.filter(pk=document.pk).update(sha256=name.ljust(64, "0"))
    profile = seeded_profile("invoice")
    return ExtractionRun.objects.create(
        document=document,
        profile=profile,
        profile_version=profile.version,
        instructions=profile.instructions,
        schema=profile.schema,
        requested_model=profile.default_model,
        status=ExtractionRun.Status.SUCCEEDED,
        result={"invoice_number": "RE1001", "total": 3, "due_date": None},
        evidence=evidence,
        verification=verification,
        checks=list(checks),
        needs_review=needs_review,
    )


def test_detail_has_evidence_by_json_path_counts_and_checks(api, user, storage_dir):
    run = make_run(
        user, name="a", needs_review=True, evidence=EVIDENCE, verification=COUNTS, checks=CHECKS
    )
    body = api.get(f"/api/extractions/{run.pk}/").json()
    assert body["evidence"] == EVIDENCE
    assert body["verification"] == COUNTS
    assert body["checks"] == CHECKS
    assert body["needs_review"] is True


def test_run_whose_evidence_failed_shows_null_verification(api, user, storage_dir):
    run = make_run(user, name="b", needs_review=False)
    body = api.get(f"/api/extractions/{run.pk}/").json()
    assert (body["evidence"], body["verification"], body["checks"]) == (None, None, [])


def test_list_has_the_counts_and_filters_needs_review(api, user, storage_dir):
    flagged = make_run(user, name="c", needs_review=True, verification=COUNTS, evidence=EVIDENCE)
    clean = make_run(
        user, name="d", needs_review=False, verification={**COUNTS, "not_found": 0}, evidence={}
    )

    def listed(query=""):
        return {r["id"]: r for r in api.get(f"/api/extractions/{query}").json()["results"]}

    everything = listed()
    assert everything[str(flagged.pk)]["verification"] == COUNTS
    assert everything[str(clean.pk)]["needs_review"] is False
    assert "evidence" not in everything[str(flagged.pk)]  # detail only
    assert list(listed("?needs_review=true")) == [str(flagged.pk)]
    assert list(listed("?needs_review=false")) == [str(clean.pk)]
    assert list(listed("?needs_review=")) == list(everything)  # empty: no filter
    refused = api.get("/api/extractions/?needs_review=maybe")  # not silently "no filter"
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"needs_review": ["Enter true or false."]}
