"""Reading printed numbers, dates and currency marks, and canonical forms of values.

Everything here is pure (no Django, no PDF): one printed token gives the set of values it may
mean, so a value is matched only by a token that can really mean it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

# --- numbers ------------------------------------------------------------------------------------

_THOUSANDS_APOSTROPHES = "'’"
_GROUP = re.compile(r"^\d{1,3}$")
_GROUP3 = re.compile(r"^\d{3}(?:[.,]\d+)?$")


def parse_printed_number(token: str) -> frozenset[Decimal]:
    """Every value a printed number without spaces can mean (magnitudes, sign ignored).

    `1,234.56` and `1.234,56` -> {1234.56}; `1'234.56` -> {1234.56}; `4,11` -> {4.11};
    `1,234` -> {1234, 1.234} (a lone separator before three digits is ambiguous);
    `20.10.2015` -> {} (groups of a thousands separator have three digits).
    """
    t = token.strip().strip(".,")
    for mark in _THOUSANDS_APOSTROPHES:
        t = t.replace(mark, "")
    if not t or not t[0].isdigit() or not t[-1].isdigit():
        return frozenset()
    dots, commas = t.count("."), t.count(",")
    if dots and commas:
        decimal_mark = "." if t.rfind(".") > t.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        if t.count(decimal_mark) != 1 or t.rfind(thousands) > t.rfind(decimal_mark):
            return frozenset()
        head, _, tail = t.partition(decimal_mark)
        if not _grouped(head.split(thousands)):
            return frozenset()
        return _decimals(head.replace(thousands, "") + "." + tail)
    if not dots and not commas:
        return _decimals(t)
    mark = "." if dots else ","
    parts = t.split(mark)
    if len(parts) > 2:
        return _decimals("".join(parts)) if _grouped(parts) else frozenset()
    head, tail = parts
    if len(tail) == 3 and _GROUP.match(head):
        return _decimals(head + tail) | _decimals(head + "." + tail)
    return _decimals(head + "." + tail)


def _grouped(parts: list[str]) -> bool:
    return bool(_GROUP.match(parts[0])) and all(len(p) == 3 and p.isdigit() for p in parts[1:])


def _decimals(text: str) -> frozenset[Decimal]:
    try:
        return frozenset({Decimal(text)})
    except InvalidOperation:
        return frozenset()


def value_decimal(value) -> Decimal | None:
    """A JSON number (or a plain numeric string) as a Decimal magnitude; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(abs(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return abs(Decimal(repr(value)))
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+(?:\.\d+)?", value.strip()):
        return abs(Decimal(value.strip()))
    return None


def space_grouped_continuation(part: str) -> bool:
    """`234,56` / `567` continue `1 234,56` / `1 234 567` (thousands grouped by spaces)."""
    return bool(_GROUP3.match(part))


# --- dates --------------------------------------------------------------------------------------

_MONTH_NAMES = [
    ("jan", "january", "janvier", "januar", "jänner", "januari", "enero", "gennaio", "janeiro"),
    ("feb", "february", "février", "fevrier", "februar", "februari", "febrero", "febbraio"),
    ("mar", "march", "mars", "märz", "maerz", "maart", "marzo", "março"),
    ("apr", "april", "avril", "abril", "aprile"),
    ("may", "mai", "mei", "mayo", "maggio", "maio"),
    ("jun", "june", "juin", "juni", "junio", "giugno", "junho"),
    ("jul", "july", "juillet", "juli", "julio", "luglio", "julho"),
    ("aug", "august", "août", "aout", "augustus", "agosto"),
    ("sep", "sept", "september", "septembre", "septiembre", "settembre", "setembro"),
    ("oct", "october", "octobre", "oktober", "okt", "octubre", "ottobre", "outubro"),
    ("nov", "november", "novembre", "noviembre", "novembro"),
    ("dec", "december", "décembre", "decembre", "dezember", "dez", "diciembre", "dicembre"),
]
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
MONTH_PATTERN = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))


def month_number(name: str) -> int | None:
    return MONTHS.get(name.casefold().rstrip("."))


def full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def value_date(value) -> date | None:
    """An ISO 8601 date string (`2017-12-31`) as a date; None for anything else."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})-(\d{2})\s*", value)
    return make_date(int(match[1]), int(match[2]), int(match[3])) if match else None


# --- currencies ---------------------------------------------------------------------------------

# Marks printed for a currency besides its ISO code. `$` alone is read as USD only.
CURRENCY_MARKS = {
    "EUR": ("€",),
    "USD": ("$", "US$"),
    "GBP": ("£",),
    "INR": ("₹", "Rs.", "Rs", "INR"),
    "JPY": ("¥", "円"),
    "CNY": ("¥", "元", "RMB"),
    "CHF": ("Fr.", "SFr."),
    "CAD": ("C$", "CA$"),
    "AUD": ("A$", "AU$"),
    "PLN": ("zł",),
    "SEK": ("kr",),
    "NOK": ("kr",),
    "DKK": ("kr.", "kr"),
    "BRL": ("R$",),
    "KRW": ("₩",),
    "RUB": ("₽",),
    "TRY": ("₺",),
    "ILS": ("₪",),
    "NGN": ("₦",),
    "VND": ("₫",),
    "PHP": ("₱",),
    "UAH": ("₴",),
}


def currency_marks(value: str) -> tuple[str, ...]:
    """The code itself and its printed signs, for a 3-letter ISO code; () for anything else."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        return ()
    return (code, *CURRENCY_MARKS.get(code, ()))


# A run of letters right before a number that is still a currency (`EUR4.11`, `Rs319`).
def is_currency_word(word: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{3}", word)) or word in ("Rs", "Rs.", "US", "CHF", "SFr")


# --- text ---------------------------------------------------------------------------------------

# Characters PDF text layers use for a hyphen broken across lines (pdfium reports U+0002).
BREAK_HYPHENS = "\x02\xad"


def fold(text: str) -> str:
    """Compatibility-normalised, case-folded, without whitespace (`ﬁ` -> `fi`, `Ä` -> `ä`)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())
