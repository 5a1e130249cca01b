"""Evidence for every leaf value of a result, from the document's stored text layer.

One pass over the pages (a few in memory at a time); each leaf keeps its first occurrences.
Statuses: `verified` (page, text, bbox; `occurrences` lists up to MAX_OCCURRENCES), `not_found`
(the document has a text layer and the value is not in it), `unverifiable` (with a `reason`:
`no_text_layer`, `pages_without_text` — some page is a scan or failed to parse, so a value not
found may be on it —, `free_text`, `not_text` for booleans), `null` (the model returned null).

The items of a segmented array (#14) are looked for on the page they were read on only, and
their evidence says which (`item_page`), found or not.
"""

from __future__ import annotations

from typing import Any

from extraction.models import Document

from .matching import Leaf, classify, leaves, locate
from .pageindex import PageIndex
from .textlayer import PageData, text_layer_ensure, text_pages_iter

MAX_OCCURRENCES = 3

VERIFIED = "verified"
NOT_FOUND = "not_found"
UNVERIFIABLE = "unverifiable"
NULL = "null"
COUNTED = (VERIFIED, NOT_FOUND, UNVERIFIABLE)


def evidence_compute(
    *, document: Document, result: Any, item_pages: dict[str, int] | None = None
) -> dict[str, dict]:
    """{json_path: evidence} for every leaf of `result` (see the module's docstring).

    `item_pages`: {"line_items[3]": 12} — the page each item of a segmented array was read on."""
    layer = text_layer_ensure(document=document)
    items = [_paged(classify(path, value), item_pages) for path, value in leaves(result)]
    pending = [leaf for leaf in items if leaf.locatable and leaf.page is None]
    on_page: dict[int, list[Leaf]] = {}
    for leaf in items:
        if leaf.locatable and leaf.page is not None:
            on_page.setdefault(leaf.page, []).append(leaf)
    if (pending or on_page) and layer.text_pages:
        for page in text_pages_iter(document=document):
            if page.kind != "text":
                continue
            index = PageIndex(page.text, date_order=layer.date_order)
            for leaf in (*pending, *on_page.pop(page.number, ())):
                room = MAX_OCCURRENCES - len(leaf.spans)
                if room <= 0:
                    continue
                # Boxes are read now: no page is kept once the next one is read.
                leaf.spans.extend(
                    _occurrence(page, span) for span in locate(leaf, index, limit=room)
                )
            pending = [leaf for leaf in pending if len(leaf.spans) < MAX_OCCURRENCES]
            if not pending and not on_page:
                break
    partial = bool(layer.image_only_pages or layer.failed_pages)
    return {
        leaf.path: _entry(leaf, has_text=bool(layer.text_pages), partial=partial) for leaf in items
    }


def _paged(leaf: Leaf, item_pages: dict[str, int] | None) -> Leaf:
    if item_pages:
        item = leaf.path.split(".", 1)[0]  # "line_items[3].amount" -> "line_items[3]"
        leaf.page = item_pages.get(item)
    return leaf


def _occurrence(page: PageData, span: tuple[int, int]) -> dict:
    start, end = span
    return {
        "page": page.number,
        "text": " ".join(page.text[start:end].split()),
        "bbox": page.bbox(start, end),
    }


def _entry(leaf: Leaf, *, has_text: bool, partial: bool) -> dict:
    entry = _status(leaf, has_text=has_text, partial=partial)
    return entry if leaf.page is None else {**entry, "item_page": leaf.page}


def _status(leaf: Leaf, *, has_text: bool, partial: bool) -> dict:
    if leaf.kind == "null":
        return {"status": NULL}
    if leaf.kind == "boolean":
        return {"status": UNVERIFIABLE, "reason": "not_text"}
    if leaf.spans:
        return {"status": VERIFIED, **leaf.spans[0], "occurrences": leaf.spans}
    if not has_text:
        return {"status": UNVERIFIABLE, "reason": "no_text_layer"}
    if leaf.free_text:
        return {"status": UNVERIFIABLE, "reason": "free_text"}
    if partial:
        return {"status": UNVERIFIABLE, "reason": "pages_without_text"}
    return {"status": NOT_FOUND}


def evidence_counts(evidence: dict[str, dict]) -> dict[str, int]:
    """`verification`: how many leaves are verified, not found, unverifiable (nulls aside)."""
    counts = dict.fromkeys(COUNTED, 0)
    for entry in evidence.values():
        if entry.get("status") in counts:
            counts[entry["status"]] += 1
    return counts
