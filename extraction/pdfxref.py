"""How many cross-reference entries a PDF claims, read cheaply before pypdf opens it.

pypdf (strict=False) visits every entry a cross-reference section declares: a 12 KB file whose
compressed xref stream claims two million entries cost ~5 s of CPU and +100 MiB, a classic table
of five million entries ~22 s and +560 MiB. This module reads only the section headers (the
`startxref` chain, classic subsection headers, xref stream dictionaries; never a stream's data)
so intake can refuse claims that the file cannot hold before pypdf pays for them. Anything it
cannot parse is left to pypdf (its repair path is bounded by size elsewhere).
"""

from __future__ import annotations

import os
import re
from typing import BinaryIO

TAIL_BYTES = 4096
HEAD_BYTES = 4096
MAX_SECTIONS = 64  # /Prev links followed at most (incremental updates); cycles end earlier
CLASSIC_ENTRY_BYTES = 20  # the spec's fixed length of one classic xref entry line

_STARTXREF = re.compile(rb"startxref\s+(\d+)")
_SUBSECTION = re.compile(rb"\s*(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)")
_TRAILER = re.compile(rb"\s*trailer")
_OBJ_HEADER = re.compile(rb"\s*\d+\s+\d+\s+obj")
_INT_KEY = {
    key: re.compile(rb"/" + key + rb"\s+(\d+)(?![\d.])") for key in (b"Size", b"Prev", b"XRefStm")
}
_INDEX = re.compile(rb"/Index\s*\[([\d\s]*)\]")


def xref_entries_claimed(stream: BinaryIO) -> int:
    """The sum of the entries every reachable cross-reference section declares (0: unknown)."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - TAIL_BYTES))
    matches = list(_STARTXREF.finditer(stream.read(TAIL_BYTES)))
    if not matches:
        return 0
    pending = [int(matches[-1].group(1))]
    seen: set[int] = set()
    total = 0
    while pending and len(seen) < MAX_SECTIONS:
        offset = pending.pop()
        if offset in seen or offset >= size:
            continue
        seen.add(offset)
        stream.seek(offset)
        head = stream.read(HEAD_BYTES)
        stripped = head.lstrip()
        if stripped.startswith(b"xref"):
            entries, links = _classic_section(stream, offset + len(head) - len(stripped) + 4)
        elif _OBJ_HEADER.match(head):
            entries, links = _stream_section(head)
        else:
            continue
        total += entries
        pending.extend(links)
    return total


def _classic_section(stream: BinaryIO, position: int) -> tuple[int, list[int]]:
    """Walk the subsection headers (each followed by count fixed-length lines) to the trailer."""
    entries = 0
    for _ in range(100_000):  # subsections; a real table has a handful
        stream.seek(position)
        chunk = stream.read(256)
        header = _SUBSECTION.match(chunk)
        if header is None:
            if _TRAILER.match(chunk):
                stream.seek(position)
                return entries, _links(stream.read(HEAD_BYTES))
            # Entry lines not of the spec's length: count what lies between here and the
            # trailer instead (a linear scan, but over bytes that really are in the file).
            return entries + _lines_until_trailer(stream, position), []
        count = int(header.group(2))
        entries += count
        position += header.end() + count * CLASSIC_ENTRY_BYTES
    return entries, []


def _lines_until_trailer(stream: BinaryIO, position: int) -> int:
    stream.seek(position)
    lines = 0
    carry = b""
    while block := stream.read(1 << 20):
        block = carry + block
        found = block.find(b"trailer")
        if found >= 0:
            return lines + block.count(b"\n", 0, found)
        lines += block.count(b"\n", 0, len(block) - 6)
        carry = block[-6:]
    return lines


def _stream_section(head: bytes) -> tuple[int, list[int]]:
    """An xref stream's dictionary: /Index pairs (or /Size) give the entries it declares."""
    end = head.find(b"stream")
    dictionary = head if end < 0 else head[:end]
    index = _INDEX.search(dictionary)
    if index is not None:
        numbers = [int(n) for n in index.group(1).split()]
        entries = sum(numbers[1::2])
    else:
        size = _INT_KEY[b"Size"].search(dictionary)
        entries = int(size.group(1)) if size else 0
    return entries, _links(dictionary)


def _links(dictionary: bytes) -> list[int]:
    links = []
    for key in (b"Prev", b"XRefStm"):
        found = _INT_KEY[key].search(dictionary)
        if found is not None:
            links.append(int(found.group(1)))
    return links
