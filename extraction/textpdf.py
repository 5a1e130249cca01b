"""A plain-text PDF written page by page to disk (Helvetica, WinAnsi): the combining call of a
map-reduce sends the segments' answers as such a document, and the benchmarks and tests generate
long statements with it. Memory stays flat: each page is written as it comes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
FONT_SIZE, LEADING, MARGIN = 8, 9, 36


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: list[str]) -> bytes:
    top = PAGE_HEIGHT - MARGIN
    parts = [b"BT /F1 %d Tf %d TL %d %d Td" % (FONT_SIZE, LEADING, MARGIN, top)]
    for line in lines:
        parts.append(b"(" + _escape(line) + b") Tj T*")
    parts.append(b"ET")
    return b"\n".join(parts)


def lines_per_page() -> int:
    return (PAGE_HEIGHT - 2 * MARGIN) // LEADING


def write_text_pdf(path: Path, pages: Iterable[list[str]]) -> int:
    """Write one PDF page per list of lines (lines past the page's height are cut); returns the
    page count. Object 1 is the catalog, 2 the page tree, 3 the font, then (content, page) pairs;
    the page tree, whose kids are known only at the end, is written last."""
    offsets: dict[int, int] = {}
    kids: list[int] = []
    with Path(path).open("wb") as out:

        def put(number: int, body: bytes) -> None:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        put(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        put(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        number = 3
        for lines in pages:
            stream = _content(list(lines)[: lines_per_page()])
            put(number + 1, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
            put(
                number + 2,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                b"/Resources << /Font << /F1 3 0 R >> >> >>"
                % (PAGE_WIDTH, PAGE_HEIGHT, number + 1),
            )
            kids.append(number + 2)
            number += 2
        refs = b" ".join(b"%d 0 R" % kid for kid in kids)
        put(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids)))
        xref_at = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (number + 1))
        for obj in range(1, number + 1):
            out.write(b"%010d 00000 n \n" % offsets[obj])
        out.write(
            b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (number + 1, xref_at)
        )
    return len(kids)
