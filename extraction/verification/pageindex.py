"""One page's text made searchable: printed numbers, printed dates and a folded copy for strings.

Positions always refer to the page's own text (one character per PDF character), so every match
can be turned into the characters' boxes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache

from .normalise import (
    BREAK_HYPHENS,
    full_year,
    is_currency_word,
    make_date,
    month_number,
    parse_printed_number,
    space_grouped_continuation,
)

Span = tuple[int, int]  # [start, end) in the page text

_NUMBER_TOKEN = re.compile(r"\d[\d.,'’]*")
_SPACES = " \u00a0\u202f\u2009"
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<![\d.,])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")
# A word then checked against the month names (one alternation of 80 names, case-insensitive,
# tried at every position, cost most of a page's indexing).
_NAMED_DMY = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er)?\.?[\s-]*(?:de\s+)?([^\W\d_]{3,10})(?!\w)\.?"
    r"[\s,-]*(?:de\s+)?(\d{4})(?!\d)"
)
_NAMED_MDY = re.compile(
    r"(?<![^\W\d_])([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*,\s*|\s+)(\d{4})(?!\d)"
)


def date_order_votes(text: str) -> tuple[int, int]:
    """(day-first, month-first) evidence from numeric dates whose order is plain (`31/12/2017`)."""
    dmy = mdy = 0
    for match in _NUMERIC_DATE.finditer(text):
        first, second = int(match[1]), int(match[3])
        if match[2] == "." or (first > 12 >= second):
            dmy += 1
        elif second > 12 >= first:
            mdy += 1
    return dmy, mdy


class PageIndex:
    def __init__(self, text: str, *, date_order: str = ""):
        self.text = text
        self.date_order = date_order  # "dmy", "mdy" or "" (not settled by the document)

    # --- numbers --------------------------------------------------------------------------------

    @cached_property
    def numbers(self) -> dict[Decimal, list[Span]]:
        found: dict[Decimal, list[Span]] = defaultdict(list)
        tokens = [
            (m.start(), m.start() + len(m.group().rstrip(".,'’")), m.group().rstrip(".,'’"))
            for m in _NUMBER_TOKEN.finditer(self.text)
        ]
        for i, (start, end, token) in enumerate(tokens):
            if not self._number_bounded(start, end):
                continue
            for value in parse_printed_number(token):
                found[value].append((start, end))
            # Thousands grouped by spaces: `1 234,56`, `12 345 678`.
            joined, last_end, j = token, end, i + 1
            while (
                re.fullmatch(r"\d{1,3}", token)
                and j < len(tokens)
                and tokens[j][0] == last_end + 1
                and self.text[last_end] in _SPACES
                and space_grouped_continuation(tokens[j][2])
                and "." not in joined[len(token) :]
                and "," not in joined[len(token) :]
            ):
                joined += tokens[j][2]
                last_end = tokens[j][1]
                if self._number_bounded(start, last_end):
                    for value in parse_printed_number(joined):
                        found[value].append((start, last_end))
                j += 1
        return found

    def _number_bounded(self, start: int, end: int) -> bool:
        """A number glued to a word is part of an identifier (`RE1001`), unless the word is a
        currency (`EUR4.11`, `Rs319`); glued by `-`/`/` to more characters, part of a code."""
        text = self.text
        if start > 0:
            before = text[start - 1]
            if before.isalpha():
                word_start = start - 1
                while word_start > 0 and text[word_start - 1].isalpha():
                    word_start -= 1
                if not is_currency_word(text[word_start:start]):
                    return False
            elif before in "-/_" and start > 1 and text[start - 2].isalnum():
                return False
            elif before == "." and start > 1 and text[start - 2].isalpha():
                return is_currency_word(text[max(0, start - 3) : start])
        if end < len(text):
            after = text[end]
            if after in "-/_" and end + 1 < len(text) and text[end + 1].isalnum():
                return False
        return True

    # --- dates ----------------------------------------------------------------------------------

    @cached_property
    def dates(self) -> dict[date, list[Span]]:
        found: dict[date, list[Span]] = defaultdict(list)
        for m in _ISO_DATE.finditer(self.text):
            self._add_date(found, m.span(), make_date(int(m[1]), int(m[3]), int(m[4])))
        for m in _NUMERIC_DATE.finditer(self.text):
            first, second, year = int(m[1]), int(m[3]), full_year(m[4])
            for month, day in self._numeric_orders(first, second, m[2]):
                self._add_date(found, m.span(), make_date(year, month, day))
        for m in _NAMED_DMY.finditer(self.text):
            month = month_number(m[2])
            if month:
                self._add_date(found, m.span(), make_date(int(m[3]), month, int(m[1])))
        for m in _NAMED_MDY.finditer(self.text):
            month = month_number(m[1])
            if month:
                self._add_date(found, m.span(), make_date(int(m[3]), month, int(m[2])))
        return found

    def _numeric_orders(self, first: int, second: int, separator: str) -> list[tuple[int, int]]:
        """(month, day) readings of `first/second/year`: the plain one, or the document's."""
        if first == second or (first > 12 >= second) or separator == ".":
            return [(second, first)]
        if second > 12 >= first:
            return [(first, second)]
        if self.date_order == "dmy":
            return [(second, first)]
        if self.date_order == "mdy":
            return [(first, second)]
        return []  # 03/04/2017 in a document whose other dates do not settle the order

    @staticmethod
    def _add_date(found, span: Span, value: date | None) -> None:
        if value is not None:
            found[value].append(span)

    # --- strings --------------------------------------------------------------------------------

    @cached_property
    def folded(self) -> tuple[str, list[int], str, list[int]]:
        """The text without whitespace, compatibility-normalised and case-folded, twice: with
        hyphens at line ends removed (`Thuis-⏎kopie` = `thuiskopie`) and kept; each with the
        page position of every character."""
        text = self.text
        # One translation of the whole text when every character folds to one (the usual case:
        # `É` -> `é`, `“` stays), so positions stay those of the page; else character by character.
        table: dict[int, str] = {}
        simple = True
        for ch in set(text):
            if ch.isspace() or ch in BREAK_HYPHENS:
                table[ord(ch)] = "\x00"
                continue
            out = _fold_char(ch)
            if len(out) != 1:
                simple = False
                break
            if out != ch:
                table[ord(ch)] = out
        if simple:
            folded = text.translate(table)
            kept_map = [i for i, ch in enumerate(folded) if ch != "\x00"]
            kept = folded.replace("\x00", "")
        else:
            chars: list[str] = []
            kept_map = []
            for i, ch in enumerate(text):
                if ch.isspace() or ch in BREAK_HYPHENS:
                    continue
                for piece in _fold_char(ch):
                    chars.append(piece)
                    kept_map.append(i)
            kept = "".join(chars)
        breaks = {m.start() for m in _LINE_END_HYPHEN.finditer(text)}
        if not breaks:
            return kept, kept_map, kept, kept_map
        keep = [k for k, i in enumerate(kept_map) if i not in breaks]
        joined = "".join([kept[k] for k in keep])
        return joined, [kept_map[k] for k in keep], kept, kept_map

    def find_string(self, needle: str, *, limit: int) -> list[Span]:
        """Where the folded `needle` stands in the text as whole words (`RE100` is not in
        `RE1001`), whitespace, case and line-end hyphens aside."""
        if not needle:
            return []
        joined, joined_map, kept, kept_map = self.folded
        spans = self._find_in(joined, joined_map, needle, limit)
        if not spans and kept != joined:
            spans = self._find_in(kept, kept_map, needle, limit)
        return spans

    def _find_in(self, haystack: str, positions: list[int], needle: str, limit: int) -> list[Span]:
        spans: list[Span] = []
        text = self.text
        at = haystack.find(needle)
        while at != -1 and len(spans) < limit:
            start, end = positions[at], positions[at + len(needle) - 1] + 1
            clean_start = not (needle[0].isalnum() and start > 0 and text[start - 1].isalnum())
            clean_end = not (needle[-1].isalnum() and end < len(text) and text[end].isalnum())
            if clean_start and clean_end and (start, end) not in spans:
                spans.append((start, end))
            at = haystack.find(needle, at + 1)
        return spans

    def find_mark(self, mark: str, *, limit: int) -> list[Span]:
        """A currency sign or code as printed (`€`, `Rs.`, `EUR`), not inside a word."""
        spans: list[Span] = []
        text = self.text
        at = text.find(mark)
        while at != -1 and len(spans) < limit:
            end = at + len(mark)
            glued_before = mark[0].isalpha() and at > 0 and text[at - 1].isalpha()
            glued_after = mark[-1].isalpha() and end < len(text) and text[end].isalpha()
            if not glued_before and not glued_after:
                spans.append((at, end))
            at = text.find(mark, at + 1)
        return spans


_LINE_END_HYPHEN = re.compile(r"-(?=[ \t]*[\r\n])")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return "".join(unicodedata.normalize("NFKC", ch).casefold().split())
