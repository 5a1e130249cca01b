"""What each leaf value of a result is, and where a page prints it.

A leaf is read by what it is: a JSON number is looked for among the page's printed numbers, an
ISO date among its printed dates, a currency code as the code or its sign, any other string as
words (whitespace, case and line-end hyphens aside). A value is never found inside a longer
number or identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .normalise import currency_marks, fold, value_date, value_decimal
from .pageindex import PageIndex, Span

# Strings of more words than this may be a paraphrase, not a quote: when not found they are
# `unverifiable` (reason `free_text`), not `not_found`.
FREE_TEXT_WORDS = 8


@dataclass
class Leaf:
    path: str
    value: Any
    kind: str  # null, boolean, number, date, currency, string
    number: Decimal | None = None
    date: date | None = None
    marks: tuple[str, ...] = ()
    folded: str = ""
    free_text: bool = False
    spans: list[dict] = field(default_factory=list)  # occurrences found: {page, text, bbox}
    # A segmented array's item (#14): the page it was read on, the only page searched.
    page: int | None = None

    @property
    def locatable(self) -> bool:
        return self.kind not in ("null", "boolean")


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(JSON path, value) of every scalar in a result: `total`, `line_items[3].amount`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{prefix}[{index}]")
    elif prefix:
        yield prefix, value


def classify(path: str, value: Any) -> Leaf:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Leaf(path, value, "null")
    if isinstance(value, bool):
        return Leaf(path, value, "boolean")
    if isinstance(value, int | float):
        number = value_decimal(value)
        return Leaf(path, value, "number" if number is not None else "boolean", number=number)
    text = str(value)
    if (when := value_date(text)) is not None:
        return Leaf(path, value, "date", date=when, folded=fold(text))
    last_key = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1].lower()
    if "currency" in last_key and (marks := currency_marks(text)):
        return Leaf(path, value, "currency", marks=marks)
    number = value_decimal(text) if re.fullmatch(r"\s*[+-]?\d+\.\d+\s*", text) else None
    return Leaf(
        path,
        value,
        "string",
        number=number,
        folded=fold(text),
        free_text=len(text.split()) > FREE_TEXT_WORDS,
    )


def locate(leaf: Leaf, index: PageIndex, *, limit: int) -> list[Span]:
    """Where `leaf` stands on the page indexed by `index` (at most `limit` places)."""
    if leaf.kind == "number":
        return index.numbers.get(leaf.number, [])[:limit]
    if leaf.kind == "date":
        return (index.dates.get(leaf.date, []) or index.find_string(leaf.folded, limit=limit))[
            :limit
        ]
    if leaf.kind == "currency":
        spans: list[Span] = []
        for mark in leaf.marks:
            for span in index.find_mark(mark, limit=limit):
                if span not in spans:
                    spans.append(span)
        return sorted(spans)[:limit]
    if leaf.kind == "string":
        spans = index.find_string(leaf.folded, limit=limit)
        if not spans and leaf.number is not None:
            spans = index.numbers.get(leaf.number, [])[:limit]
        return spans
    return []
