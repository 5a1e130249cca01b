"""The invoice the real-wire LLM tests send (a truth PDF of tests/fixtures/pdfs) and its schemas:
one copy, so the proxy, SDK and gateway tests keep asking the same question of the same document."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PDF = REPO_ROOT / "tests" / "fixtures" / "pdfs" / "truth" / "SammyMaystoneLinesTest.pdf"

# test_extract_proxy_real and test_proxy_gateway_real
SCHEMA = {
    "type": "object",
    "properties": {
        "description": {"type": ["string", "null"]},
        "notes": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
    "required": ["description", "notes", "total"],
    "additionalProperties": False,
}
# test_proxy_real and test_sdks_real: the same plus the PO number
SCHEMA_WITH_PO = {
    "type": "object",
    "properties": {
        "description": {"type": ["string", "null"]},
        "notes": {"type": ["string", "null"]},
        "po_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
    "required": ["description", "notes", "po_number", "total"],
    "additionalProperties": False,
}
# test_proxy_real and test_sdks_real
INSTRUCTIONS = "Extract the fields of this invoice as JSON."


def expected_answer(schema: dict) -> dict:
    """What the simulator derives from this PDF's text for `schema`: an answer equal to it proves
    the document itself arrived."""
    from llm.simulator.fill import fill_schema
    from llm.simulator.store import pdf_text

    with PDF.open("rb") as fh:
        text, _pages = pdf_text(fh)
    return fill_schema(schema, text)
