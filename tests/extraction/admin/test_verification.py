"""The admin run list filters on needs_review; a run's page shows its verification."""

import pytest
from django.urls import reverse

from tests.extraction.verification.test_api import CHECKS, COUNTS, EVIDENCE, make_run

pytestmark = pytest.mark.django_db


def test_run_list_filters_needs_review_and_page_shows_evidence(admin_client, user, storage_dir):
    flagged = make_run(
        user, name="e", needs_review=True, evidence=EVIDENCE, verification=COUNTS, checks=CHECKS
    )
    clean = make_run(user, name="f", needs_review=False, evidence={}, verification=COUNTS)
    changelist = reverse("admin:extraction_extractionrun_changelist")
    page = admin_client.get(changelist + "?needs_review__exact=1")
    assert page.status_code == 200
    shown = {run.pk for run in page.context["cl"].result_list}
    assert shown == {flagged.pk} and clean.pk not in shown
    detail = admin_client.get(reverse("admin:extraction_extractionrun_change", args=[flagged.pk]))
    assert detail.status_code == 200
    assert b"totals_add_up" in detail.content and b"not_found" in detail.content
