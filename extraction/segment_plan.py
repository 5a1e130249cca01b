"""Segments of a long document (#14), without any I/O: the page ranges, what each call asks (its
schema and instructions), and the merge of the answers in page order with the items repeated by
an overlap dropped."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

PAGE_FIELD = "source_page"  # asked of every item of a segment call: its page in the segment's file


@dataclass(frozen=True, order=True)
class Pages:
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def numbers(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def label(self) -> str:
        return f"{self.first}-{self.last}"

    def halves(self) -> tuple[Pages, Pages]:
        middle = (self.first + self.last) // 2
        return Pages(self.first, middle), Pages(middle + 1, self.last)


def ranges(page_count: int, *, pages: int, overlap: int = 0) -> list[Pages]:
    """Pages 1..page_count in segments of `pages` pages, each sharing its last `overlap` pages
    with the next: 25 pages by 10 + 1 -> 1-11, 11-21, 21-25."""
    found: list[Pages] = []
    first = 1
    while first <= page_count:
        last = min(first + pages + overlap - 1, page_count)
        found.append(Pages(first, last))
        if last == page_count:
            break
        first += pages
    return found


def head_and_tail(page_count: int, *, first_pages: int, last_pages: int) -> list[int]:
    """The page numbers answering the other fields when the whole document cannot."""
    head = range(1, min(first_pages, page_count) + 1)
    tail = range(max(page_count - last_pages + 1, len(head) + 1), page_count + 1)
    return [*head, *tail]


# --- what each call asks -----------------------------------------------------------------------


def _definitions(schema: dict) -> dict:
    return {k: schema[k] for k in ("$defs", "definitions") if k in schema}


def page_field_name(item_schema: Any) -> str | None:
    """The property each item of a segment answer carries its page in (None: items that are not
    objects cannot carry one)."""
    if not isinstance(item_schema, dict) or not isinstance(item_schema.get("properties"), dict):
        return None
    name = PAGE_FIELD
    while name in item_schema["properties"]:
        name = "_" + name
    return name


def array_schema(schema: dict, name: str) -> tuple[dict, str | None]:
    """The schema of a segment call for array `name`: the item schema, plus its page, wrapped in
    an object; and the page property's name."""
    item = copy.deepcopy((schema["properties"][name] or {}).get("items") or {})
    page = page_field_name(item)
    if page:
        item["properties"][page] = {
            "type": "integer",
            "description": "The page of this file the item is printed on (1 = its first page).",
        }
        if isinstance(item.get("required"), list):
            item["required"] = [*item["required"], page]
    wrapped = {
        "type": "object",
        "properties": {name: {"type": "array", "items": item}},
        "required": [name],
        "additionalProperties": False,
        **_definitions(schema),
    }
    return wrapped, page


def other_fields_schema(schema: dict, arrays: frozenset[str]) -> dict:
    """The profile's schema without the segmented arrays."""
    result = copy.deepcopy(schema)
    result["properties"] = {k: v for k, v in schema["properties"].items() if k not in arrays}
    if isinstance(result.get("required"), list):
        result["required"] = [k for k in result["required"] if k not in arrays]
    return result


def array_instructions(instructions: str, *, name: str, pages: Pages, total: int, page: str | None):
    where = f"pages {pages.first}-{pages.last}" if pages.count > 1 else f"page {pages.first}"
    own_page = (
        f" For each item give `{page}`: the page of this file it is printed on (1 = this file's "
        f"first page, i.e. page {pages.first} of the document)."
        if page
        else ""
    )
    return (
        f"{instructions}\n\nThis file holds {where} of a {total}-page document; the other pages "
        f"are read separately. Return only `{name}`: every item printed on these pages, in "
        f"order, each exactly once.{own_page}"
    )


def other_fields_instructions(
    instructions: str, *, arrays: frozenset[str], pages: list[int] | None, total: int
) -> str:
    names = ", ".join(f"`{n}`" for n in sorted(arrays))
    text = f"{instructions}\n\n{names} are extracted separately, page by page: leave them out."
    if pages is not None:
        text += (
            f" This file holds pages {spans(pages)} of a {total}-page document (its first and "
            "last pages); answer the other fields from them."
        )
    return text


def map_instructions(instructions: str, *, pages: Pages, total: int) -> str:
    return (
        f"{instructions}\n\nThis file holds pages {pages.first}-{pages.last} of a {total}-page "
        "document, too long to read at once: answer for these pages only; the answers of all "
        "the parts are combined afterwards."
    )


def reduce_instructions(instructions: str, *, parts: int, total: int) -> str:
    return (
        f"{instructions}\n\nThe attached file is not the document: a {total}-page document was "
        f"read in {parts} parts, and the file lists each part's answer (its pages, then "
        '"field: value" lines). Combine them into one answer for the whole document: merge '
        "lists without repeating an entry, and write one summary of the whole."
    )


def spans(pages: list[int]) -> str:
    spans, start = [], None
    for index, page in enumerate(pages):
        start = page if start is None else start
        if index + 1 == len(pages) or pages[index + 1] != page + 1:
            spans.append(str(start) if start == page else f"{start}-{page}")
            start = None
    return ", ".join(spans)


# --- merging -----------------------------------------------------------------------------------


@dataclass
class Piece:
    """One segment's answer for one array: its items and each one's page in the document."""

    pages: Pages
    items: list = field(default_factory=list)
    item_pages: list[int | None] = field(default_factory=list)


def piece_of(pages: Pages, items: list, page_field: str | None) -> Piece:
    """The answer's items with the page field taken out, as pages of the document (an answer's
    page outside its file is unknown: None)."""
    piece = Piece(pages=pages)
    for item in items:
        found = None
        if page_field and isinstance(item, dict):
            item = dict(item)
            own = item.pop(page_field, None)
            if isinstance(own, int) and not isinstance(own, bool) and 1 <= own <= pages.count:
                found = pages.first + own - 1
        piece.items.append(item)
        piece.item_pages.append(found)
    return piece


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def merge(pieces: list[Piece]) -> tuple[list, list[int | None], int]:
    """The items of every piece in page order, those an overlap repeated dropped; returns
    (items, their pages, how many were dropped).

    A piece's item on a page an earlier piece also read is a repeat when an item of the same
    values was found on that page by the earlier piece (each earlier item stands for one repeat
    at most, so a page listing the same line twice keeps both). When pages are unknown, the
    longest run of the earlier piece's last items equal to the next piece's first items is."""
    items: list = []
    pages: list[int | None] = []
    dropped = 0
    done: list[Piece] = []
    for piece in sorted(pieces, key=lambda p: p.pages):
        keep = _new_items(piece, done)
        dropped += len(piece.items) - len(keep)
        items += [piece.items[i] for i in keep]
        pages += [piece.item_pages[i] for i in keep]
        done.append(piece)
    return items, pages, dropped


def _new_items(piece: Piece, done: list[Piece]) -> list[int]:
    earlier = [p for p in done if p.pages.last >= piece.pages.first]
    if not earlier:
        return list(range(len(piece.items)))
    if any(None in p.item_pages for p in (*earlier, piece)):
        return _after_common_run(piece, earlier[-1])
    seen: dict[tuple[int, str], int] = {}
    for other in earlier:
        for item, page in zip(other.items, other.item_pages, strict=True):
            if page is not None and page >= piece.pages.first:
                seen[(page, _key(item))] = seen.get((page, _key(item)), 0) + 1
    keep = []
    for index, (item, page) in enumerate(zip(piece.items, piece.item_pages, strict=True)):
        key = (page, _key(item))
        if seen.get(key):
            seen[key] -= 1
        else:
            keep.append(index)
    return keep


def _after_common_run(piece: Piece, before: Piece) -> list[int]:
    mine = [_key(i) for i in piece.items]
    theirs = [_key(i) for i in before.items]
    common = 0
    for size in range(min(len(mine), len(theirs)), 0, -1):
        if theirs[-size:] == mine[:size]:
            common = size
            break
    return list(range(common, len(piece.items)))


def assemble(schema: dict, other: dict, arrays: dict[str, list]) -> dict:
    """The answer in the schema's property order: the other fields, then each merged array."""
    merged = {**(other or {}), **arrays}
    order = list((schema.get("properties") or {}).keys())
    return {k: merged[k] for k in order if k in merged} | {
        k: v for k, v in merged.items() if k not in order
    }
