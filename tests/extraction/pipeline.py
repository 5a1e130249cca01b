"""Helpers shared by the pipeline tests: documents from real PDFs, profiles, the fake provider's
answers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from extraction.models import Document, ExtractionProfile
from extraction.profile_seeds import PROFILES, SEGMENTING
from llm.types import Generation, Usage
from tests.factories import DocumentFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
PDFS = REPO_ROOT / "tests" / "fixtures" / "pdfs"
INVOICE_PDF = PDFS / "good" / "camelot-example.pdf"


def make_document(owner, path: Path = INVOICE_PDF, *, name: str | None = None) -> Document:
    """A document of a real PDF of tests/fixtures/pdfs (tests.factories.DocumentFactory)."""
    return DocumentFactory(
        owner=owner,
        original_name=name or path.name,
        content=path.read_bytes(),
        page_count=len(PdfReader(path, strict=False).pages),
        pdf_metadata={},
    )


def seeded_profile(slug: str = "invoice") -> ExtractionProfile:
    """The seeded profile (re-created when a transactional test flushed the migration's rows)."""
    spec = next(p for p in PROFILES if p["slug"] == slug)
    defaults = {**spec, "segmenting": SEGMENTING.get(slug, {})}
    profile, _ = ExtractionProfile.objects.get_or_create(slug=slug, defaults=defaults)
    return profile


# What the fake provider of a run answers (tests/extraction/conftest.py `fake`): valid for the
# seeded invoice profile.
ANSWER_DATA = {
    **dict.fromkeys(next(p for p in PROFILES if p["slug"] == "invoice")["schema"]["properties"]),
    "invoice_number": "INV-1",
    "total": 10.0,
    "line_items": [],
}


def run_answer(data=None, text: str | None = None) -> Generation:
    """An answer as the proxy gives it: usage with document tokens, the proxy's reported cost,
    labelled simulated."""
    return Generation(
        text=json.dumps(ANSWER_DATA if data is None else data) if text is None else text,
        model="gemini/gemini-2.5-flash",
        usage=Usage(input_tokens=100, output_tokens=20, document_tokens=80),
        cost_usd=Decimal("0.0012"),
        cost_source="proxy",
        simulated=True,
    )
