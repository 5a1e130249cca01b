"""A document page rendered to PNG for the reviewer (pypdfium2), cached by the document's bytes.

The cache key is the document's sha256, so a page is rendered once for every run of the same
file and never goes stale. Rendering opens the PDF, draws one page and closes it: memory is that
page's bitmap, whatever the document's length.
"""

from __future__ import annotations

import io

from django.core.cache import cache

from extraction.models import Document

RENDER_WIDTH_PX = 1000
CACHE_SECONDS = 7 * 24 * 3600


class PageOutOfRange(LookupError):
    pass


def page_png(*, document: Document, page: int, width_px: int = RENDER_WIDTH_PX) -> bytes:
    """Page `page` (1-based) of `document` as PNG bytes, `width_px` wide (cached)."""
    if page < 1 or (document.page_count and page > document.page_count):
        raise PageOutOfRange(page)
    key = f"review-page:{document.sha256}:{page}:{width_px}"
    png = cache.get(key)
    if png is None:
        png = _render(document=document, page=page, width_px=width_px)
        cache.set(key, png, CACHE_SECONDS)
    return png


def _render(*, document: Document, page: int, width_px: int) -> bytes:
    import pypdfium2 as pdfium

    from extraction.services.files import document_local_path

    with document_local_path(document) as path:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if page > len(pdf):
                raise PageOutOfRange(page)
            pdf_page = pdf[page - 1]
            try:
                width_pt = pdf_page.get_width() or 612
                bitmap = pdf_page.render(scale=width_px / width_pt)
                image = bitmap.to_pil()
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=False)
                bitmap.close()
            finally:
                pdf_page.close()
        finally:
            pdf.close()
    return out.getvalue()
