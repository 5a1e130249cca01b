"""The evidence boxes of one page of a run, for a reviewer's view of the rendered page."""

from __future__ import annotations


def page_evidence_boxes(*, run, page: int) -> list[dict]:
    """[{path, status, text, bbox}] of every occurrence the run's evidence has on `page`
    (1-based). bbox is [left, bottom, right, top] in PDF points, origin at the page's bottom
    left; the page's size in points is on its DocumentPage row (`text_page_get`)."""
    boxes = []
    for path, entry in (run.evidence or {}).items():
        for occurrence in entry.get("occurrences") or ():
            if occurrence.get("page") == page and occurrence.get("bbox"):
                boxes.append(
                    {
                        "path": path,
                        "status": entry.get("status"),
                        "text": occurrence.get("text", ""),
                        "bbox": occurrence["bbox"],
                    }
                )
    return boxes
