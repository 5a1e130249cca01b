"""Normalised comparison of extracted values: equal meaning -> equal canonical form.

Numbers (1.234,56 and 1,234.56), dates (ISO and the usual written forms), currency symbols and
codes, whitespace and case; identifiers (a reference, an invoice or booking number) also match
when they differ only in whitespace ("IBZY 2087" and "IBZY2087").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR"}
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%d %B %Y", "%B %d, %Y")


def _number(text: str) -> Decimal | None:
    t = text.strip()
    for symbol in sorted(_CURRENCY_SYMBOLS, key=len, reverse=True):
        t = t.replace(symbol, "")
    t = re.sub(r"\b[A-Z]{3}\b", "", t)
    t = re.sub(r"[ '\u00a0]", "", t)
    if not _NUMBER.match(t):
        return None
    if "," in t and "." in t:
        # The later of the two marks is the decimal one: 1.234,56 and 1,234.56.
        thousands = "." if t.rfind(",") > t.rfind(".") else ","
        t = t.replace(thousands, "").replace(",", ".")
    elif "," in t:
        head, _, tail = t.rpartition(",")
        # One comma followed by other than three digits is a decimal comma (12,5 / 4,11).
        t = f"{head}.{tail}" if t.count(",") == 1 and len(tail) != 3 else t.replace(",", "")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


def _date(text: str) -> date | None:
    t = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    return None


def normalise(value: Any) -> Any:
    """A canonical form for comparison: equal meaning -> equal result."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value)
        collapsed = " ".join(text.split())
        if not collapsed:
            return None
        if collapsed in _CURRENCY_SYMBOLS:
            return _CURRENCY_SYMBOLS[collapsed].casefold()
        as_date = _date(collapsed)
        if as_date is not None:
            return as_date.isoformat()
        as_number = _number(collapsed)
        if as_number is not None:
            return as_number.normalize()
        return collapsed.casefold()
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if not str(k).startswith("_")}
    return value


# Identifier-like: letters, digits and the usual separators, with at least one digit (so two
# different names never collapse into one by losing their spaces).
_IDENTIFIER = re.compile(r"^(?=.*\d)[\w\-/.#:]+$")


def _identifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    compact = "".join(unicodedata.normalize("NFKC", value).split())
    return compact.casefold() if _IDENTIFIER.match(compact) else None


def equivalent(a: Any, b: Any) -> bool:
    """Whether two values mean the same once normalised (or are one identifier, spaced apart)."""
    if normalise(a) == normalise(b):
        return True
    left, right = _identifier(a), _identifier(b)
    return left is not None and left == right
