"""Plausible answers where no "Label: value" line names a field.

General rules over a document's text, for the field roles every first demo meets: totals after
their usual phrases ("Total", "Grand Total", "Amount due", "Total TTC", "Gesamtbetrag", …), dates
as YYYY-MM-DD (the document's first date for an issue date, a date near "due" for a due date),
identifiers after their label without a colon ("Invoice 103767", "Booking ID IBZY2087"), the
currency, and for describing schemas a title, a document type, a summary from the first
sentences and the dates it mentions. Nothing here knows a particular document.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .values import find_dates, parse_date, parse_number

DATE_ROLES = ("issue_date", "due_date", "date")
AMOUNT_ROLES = ("total", "subtotal", "tax_total")

# --- roles -----------------------------------------------------------------------------------


def role(name_words: tuple[str, ...], schema: dict, kinds: list[str]) -> str | None:
    """What a field is for, from its name (already split into words) and its schema."""
    w = set(name_words)
    described = str(schema.get("description") or "").lower()
    numeric = any(k in ("number", "integer") for k in kinds)
    if "date" in w or schema.get("format") == "date" or "yyyy-mm-dd" in described:
        if w & {"due", "deadline", "payment", "expiry", "expiration"}:
            return "due_date"
        if w & {"issue", "issued", "invoice", "document", "bill", "billing", "receipt"} or (
            name_words == ("date",)
        ):
            return "issue_date"
        return "date"
    if numeric:
        if w & {"subtotal", "untaxed", "net"} or ("sub" in w and "total" in w):
            return "subtotal"
        if w & {"tax", "vat", "tva", "gst", "mwst"}:
            return "tax_total"
        if "total" in w or w & {"due", "payable"} or name_words in (("amount",), ("balance",)):
            return "total"
        return None
    if "string" not in kinds:
        return None
    if "currency" in w and "rate" not in w:
        return "currency"
    if name_words and name_words[-1] in ("number", "id", "reference") and len(name_words) > 1:
        return "identifier"
    if w & {"summary", "abstract", "synopsis", "overview"}:
        return "summary"
    if name_words in (("title",), ("document", "title"), ("subject",)):
        return "title"
    if name_words in (("document", "type"), ("type",), ("kind",), ("category",)):
        return "document_type"
    return None


def find(role_name: str, text: str, name_words: tuple[str, ...], kinds: list[str]) -> Any:
    """The role's value found in `text`, typed for `kinds`, or None."""
    if role_name in AMOUNT_ROLES:
        raw = amount_after_phrase(text, role_name)
        number = parse_number(raw) if raw else None
        if number is None:
            return None
        if "integer" in kinds and "number" not in kinds:
            return int(number) if number == int(number) else None
        return number
    finder = {
        "issue_date": issue_date,
        "due_date": due_date,
        "currency": currency,
        "summary": summary,
        "title": title,
        "document_type": document_type,
    }.get(role_name)
    if finder is not None:
        return finder(text)
    if role_name == "identifier":
        return identifier_after_label(text, name_words)
    return None


# --- amounts ---------------------------------------------------------------------------------

_TO_PAY = (
    r"grand\s*total|(?:total\s+)?amount\s+(?:due|payable|to\s+pay)|total\s+(?:due|payable)"
    r"|balance\s+(?:due|to\s+pay)|net\s+(?:payable|à\s+payer)|total\s+to\s+pay|invoice\s+total"
    r"|total\s+for\s+this\s+invoice|total\s+(?:ttc|incl\w*|inc\.?|gross|brutto)"
    r"|total\W{0,4}(?:[€$£]|[a-z]{3})\W{0,3}incl\w*|montant\s+(?:à\s+payer|ttc|total)"
    r"|rechnungsbetrag|gesamtbetrag|endsumme|summe\s+gesamt|bruttobetrag|gesamtsumme"
    r"|te\s+betalen|totaalbedrag|total\s+facture|total\s+à\s+payer"
)
_PHRASES = {
    "total": (
        (re.compile(rf"^\W*(?:{_TO_PAY})\b", re.I), False),
        (
            re.compile(
                r"^\W*(?:total(?:\s+amount)?|totaal|summe|sum)\b"
                r"(?!\s*(?:ht|excl|excluding|net|hors|before|tax|vat|tva|gst|mwst|ust)\b)",
                re.I,
            ),
            True,
        ),
    ),
    "subtotal": (
        (
            re.compile(
                r"^\W*(?:sub\s*-?\s*total|total\s+(?:ht|excl\w*|net|before\s+tax|hors\s+taxes?)"
                r"|net\s+(?:total|amount)|nettobetrag|netto(?:summe)?|montant\s+ht"
                r"|amount\s+excl\w*|untaxed\s+amount)\b",
                re.I,
            ),
            True,
        ),
    ),
    "tax_total": (
        (
            re.compile(
                r"^\W*(?:total\s+(?:tax|vat|tva|gst|mwst|ust)|tax\s+total|(?:sales\s+)?tax"
                r"|vat|tva|gst|mwst|ust|montant\s+tva|umsatzsteuer)\b",
                re.I,
            ),
            True,
        ),
    ),
}
_MONEY = re.compile(r"(?<!\d)[-−]?(?:\d{1,3}(?:[ ,.'’\u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?(?![\d%])")
_CENTS = re.compile(r"[.,]\d{2}$")
CURRENCY_SIGNS = {"€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY", "$": "USD"}
CURRENCY_WORDS = {"rs": "INR", "rs.": "INR", "inr": "INR", "us$": "USD", "euro": "EUR"}
ISO_CODES = frozenset(
    (
        "EUR",
        "USD",
        "GBP",
        "INR",
        "CHF",
        "JPY",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "HKD",
        "SGD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "TRY",
        "BRL",
        "MXN",
        "ZAR",
        "AED",
        "SAR",
        "ILS",
        "KRW",
        "THB",
        "MYR",
        "IDR",
        "PHP",
    )
)
_CODE = re.compile(r"(?<![A-Za-z])(" + "|".join(sorted(ISO_CODES)) + r"|Rs\.?|US\$)(?![A-Za-z])")


def _has_currency(text: str) -> bool:
    return any(sign in text for sign in CURRENCY_SIGNS) or bool(_CODE.search(text))


def _last_amount(text: str, *, money_only: bool) -> str | None:
    for start, end, _ in reversed(find_dates(text)):  # a date is not an amount
        text = text[:start] + " " * (end - start) + text[end:]
    found = [m.group(0) for m in _MONEY.finditer(text)]
    if not found:
        return None
    last = found[-1]
    if money_only and not (_CENTS.search(last) or _has_currency(text)):
        return None
    return last


def _amount_only_line(line: str) -> str | None:
    rest = _CODE.sub(" ", line)
    for sign in CURRENCY_SIGNS:
        rest = rest.replace(sign, " ")
    if re.fullmatch(r"\W*[-−]?\d[\d ,.'’\u00a0]*\W*", rest):
        return _last_amount(line, money_only=False)
    return None


def amount_after_phrase(text: str, role_name: str) -> str | None:
    """The amount on the line of the role's most telling phrase (the last such line), or on the
    next line when the phrase stands alone ("Grand Total" / "Rs 1939")."""
    lines = [line.strip() for line in text.splitlines()]
    for pattern, money_only in _PHRASES[role_name]:
        found = None
        for index, line in enumerate(lines):
            match = pattern.match(line)
            if not match:
                continue
            amount = _last_amount(line[match.end() :], money_only=money_only)
            if amount is None:
                following = [nxt for nxt in lines[index + 1 : index + 3] if nxt][:1]
                amount = _amount_only_line(following[0]) if following else None
            if amount is not None:
                found = amount
        if found is not None:
            return found
    return None


def currency(text: str) -> str | None:
    """The ISO code beside the total, else the code or sign the text uses most."""
    for line in text.splitlines():
        if _PHRASES["total"][0][0].match(line.strip()):
            code = _currency_in(line)
            if code:
                return code
    counts = Counter()
    for match in _CODE.finditer(text):
        counts[CURRENCY_WORDS.get(match.group(1).lower(), match.group(1).upper())] += 1
    for sign, code in CURRENCY_SIGNS.items():
        counts[code] += text.count(sign)
    counts = +counts
    return counts.most_common(1)[0][0] if counts else None


def _currency_in(line: str) -> str | None:
    match = _CODE.search(line)
    if match:
        return CURRENCY_WORDS.get(match.group(1).lower(), match.group(1).upper())
    return next((code for sign, code in CURRENCY_SIGNS.items() if sign in line), None)


# --- dates -----------------------------------------------------------------------------------

_DUE = re.compile(
    r"\b(?:due|payable|pay\s+by|échéance|echeance|limite|fällig|faellig|vervaldatum|zahlbar)",
    re.I,
)


_ISSUED = re.compile(r"invoice|issue|bill|rechnung|factu|receipt|beleg", re.I)
_DATE_WORD = re.compile(r"dat(?:e|um|o)\b|dated\b", re.I)


def issue_date(text: str) -> str | None:
    """A date on a line naming the invoice (or issue) and a date, else on any line saying
    "date" (not a due date), else the document's first date."""
    lines = [line for line in text.splitlines() if not _DUE.search(line)]
    for wanted in (
        lambda line: _ISSUED.search(line) and _DATE_WORD.search(line),
        _DATE_WORD.search,
    ):
        for line in lines:
            if wanted(line) and (found := parse_date(line)):
                return found
    dates = find_dates(text)
    return dates[0][2] if dates else None


def due_date(text: str) -> str | None:
    """A date written after a "due" word on the same line (or the next one)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _DUE.search(line)
        if not match:
            continue
        after = line[match.end() :] + "\n" + " ".join(lines[index + 1 : index + 2])
        found = parse_date(after)
        if found:
            return found
    return None


# --- identifiers -----------------------------------------------------------------------------

_ID_TOKEN = re.compile(r"^(?:n[°º]|no\.?|nr\.?|#)?\s*([A-Za-z0-9][\w\-/.]*\d[\w\-/.]*)$", re.I)


def identifier_after_label(text: str, name_words: tuple[str, ...]) -> str | None:
    """An identifier printed after its label with no colon: "Invoice No 123", "Invoice 103767",
    "Booking ID IBZY2087" (the value must hold a digit)."""
    from .fill import words  # the same word splitting as the label matching

    wanted = {name_words, name_words[:-1]}
    for line in text.splitlines():
        tokens = line.replace(":", " ").split()
        for size in range(1, min(5, len(tokens))):
            if words(" ".join(tokens[:size])) not in wanted:
                continue
            value = _ID_TOKEN.match(tokens[size])
            if value:
                return value.group(1).rstrip(".")
    return None


# --- describing a document --------------------------------------------------------------------


def _clean_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _prose(line: str) -> bool:
    letters = sum(c.isalpha() for c in line)
    return len(line) >= 30 and letters / len(line) > 0.6


def summary(text: str, *, limit: int = 400, sentences: int = 3) -> str | None:
    """The document's first sentences (its first lines when it has no prose)."""
    lines = _clean_lines(text)
    if not lines:
        return None
    prose = " ".join(line for line in lines if _prose(line))
    taken: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(«])", prose):
        if taken and (len(" ".join(taken)) + len(sentence) > limit or len(taken) >= sentences):
            break
        taken.append(sentence.strip())
    result = " ".join(taken).strip() or "; ".join(lines[:5])
    return result if len(result) <= limit else result[: limit - 1].rstrip() + "…"


def title(text: str) -> str | None:
    """The first line that reads like words (not a number, a date or a page mark)."""
    for line in _clean_lines(text)[:15]:
        line = line.strip(" *-–•|")
        wordy = 3 <= len(line) <= 120 and re.search(r"[^\W\d_]{2,}", line)
        if wordy and not find_dates(line) and not re.match(r"(?i)page\b", line):
            return line
    return None


_TYPES = (
    ("invoice", r"\b(?:invoice|facture|rechnung|factuur|fattura|factura)\b"),
    ("receipt", r"\breceipt\b|\bquittung\b|\breçu\b"),
    ("contract", r"\b(?:agreement|contract|contrat|vertrag)\b"),
    ("minutes", r"\bminutes\b|\bprocès-verbal\b|\bprotokoll\b"),
    ("transcript", r"\btranscript\b"),
    ("paper", r"\babstract\b.*\breferences\b"),
    ("form", r"\bform\b|\bformulaire\b|\bomb no\b"),
    ("letter", r"\bdear\b|\bsincerely\b|\byours faithfully\b"),
    ("report", r"\breport\b|\brapport\b|\bbericht\b"),
)


def document_type(text: str) -> str | None:
    head = text[:4000].lower()
    return next((kind for kind, pattern in _TYPES if re.search(pattern, head, re.S)), None)


def dated_lines(text: str, *, limit: int = 5) -> list[tuple[str, str]]:
    """(ISO date, what its line says besides it) for the first distinct dates of the text."""
    found: list[tuple[str, str]] = []
    for line in _clean_lines(text):
        for start, end, iso in find_dates(line):
            if any(iso == seen for seen, _ in found):
                continue
            context = (line[:start] + " " + line[end:]).strip(" :-–|,.")
            found.append((iso, " ".join(context.split())[:80]))
            if len(found) >= limit:
                return found
    return found
