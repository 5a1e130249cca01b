"""Cross-reference claims are read before pypdf visits them (issue #17 §1); the HTTP-level
hostile files with their time and heap are in tests/reliability/test_hostile_xref.py."""

import io

import pytest

from extraction.errors import PdfUnreadable
from extraction.pdfinspect import pdf_inspect
from extraction.pdfxref import xref_entries_claimed
from tests import pdfgen, xrefgen


@pytest.mark.parametrize(
    ("data", "claimed"),
    [
        (xrefgen.xref_stream_pdf(20), 20),
        (xrefgen.xref_stream_pdf(20, index=True), 20),
        (xrefgen.classic_xref_pdf(20), 20),
        (pdfgen.raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>"]), 2),
    ],
)
def test_claimed_entries_are_read_from_the_section_headers(data, claimed):
    assert xref_entries_claimed(io.BytesIO(data)) == claimed


def test_lines_of_the_wrong_length_are_counted_up_to_the_trailer():
    data = xrefgen.classic_xref_pdf(5000, line_end=b"\n").replace(b"xref\n0 5000", b"xref\n0 5")
    assert xref_entries_claimed(io.BytesIO(data)) >= 5000


def test_every_good_fixture_claims_far_fewer_entries_than_its_bytes():
    for path in sorted((pdfgen.PDFS / "good").glob("*.pdf")):
        with path.open("rb") as stream:
            claimed = xref_entries_claimed(stream)
        assert 0 < claimed <= path.stat().st_size // 10, path.name


@pytest.mark.parametrize(
    "data",
    [
        xrefgen.xref_stream_pdf(20_001),
        xrefgen.xref_stream_pdf(20_001, index=True),
        xrefgen.classic_xref_pdf(2000),
    ],
    ids=["xref-stream", "xref-stream-index", "classic-over-max-objects"],
)
def test_claims_the_file_cannot_hold_are_refused_before_pypdf(data, monkeypatch):
    import extraction.pdfinspect as pdfinspect

    def no_pypdf(*args, **kwargs):
        raise AssertionError("pypdf must not open it")

    monkeypatch.setattr(pdfinspect, "PdfReader", no_pypdf)
    with pytest.raises(PdfUnreadable, match="declares"):
        pdf_inspect(io.BytesIO(data), max_pages=10, max_objects=1000)


def test_a_claim_within_the_bounds_is_read():
    info = pdf_inspect(io.BytesIO(xrefgen.xref_stream_pdf(5000)), max_pages=10)
    assert info.page_count == 1
