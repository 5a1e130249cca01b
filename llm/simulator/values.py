"""Numbers and dates as printed in documents, read into plain values (ISO dates)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january", "janvier", "januar", "januari"),
            ("feb", "february", "fevrier", "février", "februar", "februari"),
            ("mar", "march", "mars", "märz", "maart"),
            ("apr", "april", "avril"),
            ("may", "mai", "mei"),
            ("jun", "june", "juin", "juni"),
            ("jul", "july", "juillet", "juli"),
            ("aug", "august", "aout", "août", "augustus"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "october", "octobre", "oktober"),
            ("nov", "november", "novembre"),
            ("dec", "december", "decembre", "décembre", "dezember"),
        ]
    )
    for m in names
}


def parse_number(raw: str) -> float | None:
    match = re.search(r"-?\d[\d\s.,']*", raw)
    if not match:
        return None
    token = re.sub(r"[\s']", "", match.group(0)).rstrip(".,")
    if "," in token and "." in token:
        if token.rfind(",") > token.rfind("."):
            token = token.replace(".", "").replace(",", ".")
        else:
            token = token.replace(",", "")
    elif "," in token:
        head, _, tail = token.rpartition(",")
        token = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else token.replace(",", "")
    try:
        return float(token)
    except ValueError:
        return None


_MONTH = r"([a-zéûä]{3,10})\.?"
_DATE_PATTERNS = (
    ("ymd", re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    # Day-first unless impossible (06/22/2015 is month-first); two-digit years are 20xx.
    (
        "dmy",
        re.compile(r"(?<![\d./-])(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?![\d/-]|\.\d|:\d)"),
    ),
    ("mdy_named", re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})(?!\d)")),
    (
        "dmy_named",
        re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er)?\.?\s+" + _MONTH + r"\s+(\d{4})(?!\d)"),
    ),
)


def _iso(kind: str, m: re.Match) -> str | None:
    try:
        if kind == "ymd":
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if kind == "dmy":
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            first, second = int(m[1]), int(m[2])
            day, month = (second, first) if second > 12 >= first else (first, second)
            return date(year, month, day).isoformat()
        if kind == "mdy_named" and m[1] in MONTHS:
            return date(int(m[3]), MONTHS[m[1]], int(m[2])).isoformat()
        if kind == "dmy_named" and m[2] in MONTHS:
            return date(int(m[3]), MONTHS[m[2]], int(m[1])).isoformat()
    except ValueError:
        return None
    return None


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every date written in `text`: (start, end, ISO date), in reading order."""
    lowered = text.lower().replace(",", " ")
    found = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(lowered):
            iso = _iso(kind, m)
            if iso and not any(s <= m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), iso))
    return sorted(found)


def parse_date(raw: str) -> str | None:
    """The first date written in `raw`, as YYYY-MM-DD (None when there is none)."""
    dates = find_dates(raw)
    if dates:
        return dates[0][2]
    if m := re.fullmatch(r"\s*(\d{4})(\d{2})(\d{2})\s*", raw):
        return _iso("ymd", m)
    return None


def coerce(raw: str, kinds: list[str], schema: dict) -> Any:
    raw = raw.strip()
    if "enum" in schema:
        for option in schema["enum"]:
            if isinstance(option, str) and option.lower() == raw.lower():
                return option
        return None
    for kind in kinds:
        if kind in ("number", "integer"):
            number = parse_number(raw)
            if number is None:
                continue
            if kind == "integer":
                if number != int(number):
                    continue
                return int(number)
            return number
        if kind == "boolean":
            low = raw.lower()
            if low in ("yes", "true", "oui", "ja", "y", "1"):
                return True
            if low in ("no", "false", "non", "nein", "n", "0"):
                return False
            continue
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "date":
                return parse_date(raw)
            return raw
    return None


def empty_value(kind: str, schema: dict) -> Any:
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    return (
        {"string": "", "number": 0, "integer": 0, "boolean": False, "array": [], "object": {}}[kind]
        if kind in ("string", "number", "integer", "boolean", "array", "object")
        else None
    )
