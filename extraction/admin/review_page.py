"""The review page's evidence beside the form: each field's status and where it is printed, and
the PDF page itself, rendered on the server for staff with the review permission."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from extraction.models import ExtractionRun
from extraction.verification.fields import FLAGGED, field_entries, field_status
from extraction.verification.models import DocumentPage
from extraction.verification.render import PageOutOfRange, page_png

LABELS = {"matches_embedded": "matches XML", "contradicts_embedded": "contradicts XML"}


def field_evidence(*, evidence: dict | None, field: str) -> dict:
    """{status, flagged, locations: [{path, status, page, bbox, text}]} of one top-level field."""
    status = field_status(evidence, field)
    locations = [
        {"path": path, "status": entry.get("status"), **occurrence}
        for path, entry in field_entries(evidence, field).items()
        for occurrence in entry.get("occurrences") or ()
        if occurrence.get("page") and occurrence.get("bbox")
    ]
    return {
        "status": status,
        "label": LABELS.get(status, status.replace("_", " ")),
        "flagged": status in FLAGGED,
        "locations": locations,
    }


def page_sizes(*, document) -> dict[int, list[float]]:
    """{page number: [width, height] in PDF points} from the document's stored text layer."""
    return {
        number: [width, height]
        for number, width, height in DocumentPage.objects.filter(document=document).values_list(
            "number", "width", "height"
        )
    }


class ReviewPageMixin:
    """The PNG of one page of a run's document (ExtractionRunAdmin supplies the permission)."""

    def review_page_view(self, request, run_id, page: int):
        if not self.has_review_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ExtractionRun.objects.select_related("document"), pk=run_id)
        try:
            png = page_png(document=run.document, page=page)
        except PageOutOfRange:
            raise Http404("No such page.") from None
        response = HttpResponse(png, content_type="image/png")
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        return response
