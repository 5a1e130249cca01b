"""A document's text layer, extracted once with pypdfium2 and stored page by page.

`text_layer_ensure(document=...)` builds it on first use (one page loaded at a time, pages written
in small batches, so a 2,000-page document never holds every page's boxes in memory); later runs
read the stored pages with `text_pages_iter`. A page that fails to parse is stored as `failed`.
"""

from __future__ import annotations

import array
import ctypes
import logging
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from django.db import transaction

from extraction.models import Document

from .models import DocumentPage, DocumentTextLayer
from .pageindex import date_order_votes

logger = logging.getLogger(__name__)

# Bump when what is stored changes: older layers are rebuilt on next use.
TEXT_LAYER_VERSION = 1
PAGES_PER_BATCH = 25
_NO_BOX = (0.0, 0.0, 0.0, 0.0)


@dataclass
class PageData:
    number: int
    kind: str
    text: str
    width: float
    height: float
    raw_boxes: bytes

    @cached_property
    def boxes(self) -> array.array:
        values = array.array("f")
        if self.raw_boxes:
            values.frombytes(zlib.decompress(self.raw_boxes))
            if sys.byteorder != "little":
                values.byteswap()
        return values

    def bbox(self, start: int, end: int) -> list[float] | None:
        """The union of the boxes of characters [start, end), in PDF points
        (left, bottom, right, top); None when none of them has a box."""
        boxes = self.boxes
        left = bottom = float("inf")
        right = top = float("-inf")
        for i in range(start, min(end, len(boxes) // 4)):
            x0, y0, x1, y1 = boxes[4 * i : 4 * i + 4]
            if x1 <= x0 and y1 <= y0 or self.text[i].isspace():
                continue
            left, bottom = min(left, x0), min(bottom, y0)
            right, top = max(right, x1), max(top, y1)
        if left == float("inf"):
            return None
        return [round(v, 1) for v in (left, bottom, right, top)]


def text_layer_ensure(*, document: Document) -> DocumentTextLayer:
    """The document's stored text layer, built now when missing or out of date."""
    layer = DocumentTextLayer.objects.filter(document=document).first()
    if layer is not None and layer.version == TEXT_LAYER_VERSION:
        return layer
    return text_layer_build(document=document)


def text_layer_build(*, document: Document) -> DocumentTextLayer:
    """Extract every page's text and character boxes and store them (replacing older ones)."""
    from extraction.services.files import document_local_path

    started = time.monotonic()
    DocumentTextLayer.objects.filter(document=document).delete()
    DocumentPage.objects.filter(document=document).delete()
    counts = {kind: 0 for kind in DocumentPage.Kind.values}
    dmy = mdy = 0
    batch: list[DocumentPage] = []
    with document_local_path(document) as path:
        for page in _extract_pages(str(path)):
            counts[page.kind] += 1
            votes = date_order_votes(page.text)
            dmy, mdy = dmy + votes[0], mdy + votes[1]
            batch.append(
                DocumentPage(
                    document=document,
                    number=page.number,
                    kind=page.kind,
                    width=page.width,
                    height=page.height,
                    text=page.text,
                    boxes=page.raw_boxes,
                )
            )
            if len(batch) >= PAGES_PER_BATCH:
                DocumentPage.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
    if batch:
        DocumentPage.objects.bulk_create(batch, ignore_conflicts=True)
    with transaction.atomic():
        layer, _ = DocumentTextLayer.objects.update_or_create(
            document=document,
            defaults={
                "version": TEXT_LAYER_VERSION,
                "page_count": sum(counts.values()),
                "text_pages": counts["text"],
                "image_only_pages": counts["image_only"],
                "failed_pages": counts["failed"],
                "date_order": "dmy" if dmy and not mdy else "mdy" if mdy and not dmy else "",
                "build_ms": int((time.monotonic() - started) * 1000),
            },
        )
    return layer


def text_pages_iter(*, document: Document, chunk_size: int = PAGES_PER_BATCH) -> Iterator[PageData]:
    """The stored pages in order, a few at a time."""
    rows = (
        DocumentPage.objects.filter(document=document)
        .order_by("number")
        .values_list("number", "kind", "text", "width", "height", "boxes")
    )
    for number, kind, text, width, height, boxes in rows.iterator(chunk_size=chunk_size):
        yield PageData(number, kind, text, width, height, bytes(boxes or b""))


def text_page_get(*, document: Document, number: int) -> PageData | None:
    row = (
        DocumentPage.objects.filter(document=document, number=number)
        .values_list("number", "kind", "text", "width", "height", "boxes")
        .first()
    )
    if row is None:
        return None
    number, kind, text, width, height, boxes = row
    return PageData(number, kind, text, width, height, bytes(boxes or b""))


# --- extraction with pypdfium2 --------------------------------------------------------------------


def _extract_pages(path: str) -> Iterator[PageData]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        for index in range(len(pdf)):
            try:
                yield _extract_page(pdf, index)
            except Exception:  # noqa: BLE001 - one bad page never stops the others
                logger.warning("text layer: page %s could not be parsed", index + 1, exc_info=True)
                yield PageData(index + 1, DocumentPage.Kind.FAILED, "", 0.0, 0.0, b"")
    finally:
        pdf.close()


def _extract_page(pdf, index: int) -> PageData:
    import pypdfium2.raw as raw

    page = pdf[index]
    textpage = None
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        count = textpage.count_chars()
        text = textpage.get_text_range() if count > 0 else ""
        if len(text) != count:
            # get_text_range may drop or add characters; one per char index keeps boxes aligned.
            text = "".join(
                chr(raw.FPDFText_GetUnicode(textpage, i) or 0xFFFD) for i in range(count)
            )
        if not text.strip():
            kind = DocumentPage.Kind.IMAGE_ONLY if _has_image(page) else DocumentPage.Kind.BLANK
            return PageData(index + 1, kind, "", width, height, b"")
        boxes = array.array("f")
        extend = boxes.extend
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        get_box = raw.FPDFText_GetCharBox
        for i in range(count):
            if get_box(textpage, i, left, right, bottom, top):
                extend((left.value, bottom.value, right.value, top.value))
            else:
                extend(_NO_BOX)
        if sys.byteorder != "little":
            boxes.byteswap()
        return PageData(
            index + 1, DocumentPage.Kind.TEXT, text, width, height, zlib.compress(boxes, 1)
        )
    finally:
        if textpage is not None:
            textpage.close()
        page.close()


def _has_image(page) -> bool:
    import pypdfium2.raw as raw

    return (
        next(iter(page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=3)), None) is not None
    )
