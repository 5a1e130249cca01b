"""The review page shows each field's evidence beside the form and the PDF page rendered on the
server (PNG, cached, only for staff with the review permission)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse

from extraction.admin.review_page import field_evidence
from extraction.verification import render
from tests.extraction.verification.review_runs import verified_run

pytestmark = pytest.mark.django_db
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def page_url(run, page):
    return reverse("admin:extraction_extractionrun_review_page", args=[run.pk, page])


def test_field_evidence_takes_the_worst_leaf_and_every_located_occurrence():
    evidence = {
        "total": {
            "status": "verified",
            "occurrences": [{"page": 1, "text": "9", "bbox": [1, 2, 3, 4]}],
        },
        "line_items[0].amount": {
            "status": "verified",
            "occurrences": [{"page": 2, "text": "5", "bbox": [5, 6, 7, 8]}],
        },
        "line_items[1].amount": {"status": "not_found"},
        "line_items_count": {"status": "verified", "occurrences": []},
    }
    lines = field_evidence(evidence=evidence, field="line_items")
    assert lines["status"] == "not_found" and lines["flagged"] and lines["label"] == "not found"
    assert [loc["path"] for loc in lines["locations"]] == ["line_items[0].amount"]
    total = field_evidence(evidence=evidence, field="total")
    assert total["status"] == "verified" and not total["flagged"]
    assert total["locations"] == [
        {"path": "total", "status": "verified", "page": 1, "text": "9", "bbox": [1, 2, 3, 4]}
    ]
    assert field_evidence(evidence=None, field="total")["status"] == ""


def test_review_page_lists_statuses_and_flags_values_not_in_the_document(
    admin_client, user, storage_dir
):
    run = verified_run(user)
    assert run.evidence["plan"]["page"] == 2 and run.evidence["buyer_name"]["status"] == "not_found"
    response = admin_client.get(reverse("admin:extraction_extractionrun_review", args=[run.pk]))
    assert response.status_code == 200
    rows = {row["field"].name: row for row in response.context["rows"]}
    assert rows["plan"]["locations"][0]["page"] == 2
    assert rows["buyer_name"]["flagged"] and not rows["invoice_number"]["flagged"]
    html = response.content.decode()
    assert 'class="review-row review-flagged" data-field="buyer_name"' in html
    assert 'id="review-locations"' in html and page_url(run, 1) in html
    assert response.context["pages"][2][0] > 0  # page sizes in points, for the boxes


def test_page_png_is_rendered_once_and_cached(admin_client, user, storage_dir, monkeypatch):
    cache.clear()
    run = verified_run(user)
    calls = []
    real = render._render
    monkeypatch.setattr(render, "_render", lambda **kw: calls.append(kw) or real(**kw))
    first = admin_client.get(page_url(run, 2))
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content.startswith(PNG_MAGIC)
    width = int.from_bytes(first.content[16:20], "big")  # the IHDR chunk
    assert width == render.RENDER_WIDTH_PX
    again = admin_client.get(page_url(run, 2))
    assert again.content == first.content and len(calls) == 1
    assert admin_client.get(page_url(run, 3)).status_code == 404


def test_page_png_needs_the_review_permission(client, django_user_model, user, storage_dir):
    run = verified_run(user)
    staff = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_extractionrun"))
    client.force_login(staff)
    assert client.get(page_url(run, 1)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="review_run"))
    staff = django_user_model.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(page_url(run, 1)).status_code == 200
