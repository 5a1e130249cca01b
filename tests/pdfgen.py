"""PDFs made by tests: small valid ones, encrypted ones, hostile page trees, very large ones."""

import io
from pathlib import Path

from pypdf import PdfWriter

REPO_ROOT = Path(__file__).resolve().parents[1]
PDFS = REPO_ROOT / "tests" / "fixtures" / "pdfs"


def blank_pdf(pages: int = 1, *, title: str | None = None, marker: str = "") -> bytes:
    """A valid PDF; `marker` changes its bytes (and so its sha256) without changing its pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    metadata = {"/Producer": "remorai tests"}
    if title:
        metadata["/Title"] = title
    if marker:
        metadata["/Subject"] = marker
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_letter_pdf(path: Path, pages: int) -> Path:
    """`pages` blank US-letter pages, written to `path`."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def encrypted_pdf(*, algorithm: str, user_password: str, pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes], *, prefix: bytes = b"") -> bytes:
    """A PDF from raw object bodies (object i+1 = objects[i]; object 1 is the catalog)."""
    out = bytearray(prefix + b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def page_count_claim_pdf(claimed: int) -> bytes:
    """One real page under a /Pages node that claims `claimed` pages."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % claimed,
            PAGE,
        ]
    )


def page_tree_bomb_pdf(fanout: int = 1000) -> bytes:
    """A few kilobytes whose page tree reaches fanout² leaves (one /Pages node shared by all)."""
    kids_of_root = b" ".join([b"3 0 R"] * fanout)
    kids_of_shared = b" ".join([b"4 0 R"] * fanout)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids_of_root, fanout * fanout),
            b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (kids_of_shared, fanout),
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 200 200] >>",
        ]
    )


def cyclic_page_tree_pdf() -> bytes:
    """/Pages 2 -> /Pages 3 -> /Pages 2 again."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


def zero_page_pdf() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def write_large_pdf(path: Path, size_bytes: int, *, chunk: int = 1 << 20) -> Path:
    """A valid one-page PDF of about `size_bytes`, written in chunks (never whole in memory)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    objects_before = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE,
    ]
    payload = max(0, size_bytes - 1024)
    offsets = []
    position = 0
    with open(path, "wb") as out:

        def write(data: bytes):
            nonlocal position
            out.write(data)
            position += len(data)

        write(head)
        for number, body in enumerate(objects_before, start=1):
            offsets.append(position)
            write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        offsets.append(position)
        write(b"4 0 obj\n<< /Length %d >>\nstream\n" % payload)
        block = bytes(range(256)) * (chunk // 256)
        remaining = payload
        while remaining:
            piece = block[: min(len(block), remaining)]
            write(piece)
            remaining -= len(piece)
        write(b"\nendstream\nendobj\n")
        xref_at = position
        write(b"xref\n0 5\n0000000000 65535 f \n")
        for offset in offsets:
            write(b"%010d 00000 n \n" % offset)
        write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at)
    return path


def manifest_rows() -> list[dict]:
    """MANIFEST.tsv as dicts (file, pages, …)."""
    lines = (PDFS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]


def pdf_with_attachment(name: str, content: bytes, *, pages: int = 1) -> bytes:
    """A valid PDF carrying one embedded file (e.g. an e-invoice XML) named `name`."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
