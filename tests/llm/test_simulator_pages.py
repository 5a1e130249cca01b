"""The simulator answers from the PDF it is sent, page by page (#14 §5): a segment's sub-PDF yields
only its pages' items, each with the page of the file it was read on when the schema asks."""

import io

import pypdf
import pytest

from extraction.textpdf import write_text_pdf
from llm import service
from llm.simulator.fill import fill_schema
from llm.simulator.store import pdf_text
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401

ITEM = {
    "type": "object",
    "properties": {
        "description": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "source_page": {"type": "integer"},
    },
    "required": ["description", "amount", "source_page"],
    "additionalProperties": False,
}
SCHEMA = {
    "type": "object",
    "properties": {"line_items": {"type": "array", "items": ITEM}},
    "required": ["line_items"],
    "additionalProperties": False,
}


def statement_pages(pages: int, per_page: int = 2):
    return [
        [
            line
            for i in range(per_page)
            for line in (f"Description: Item p{page} n{i}", f"Amount: {page}.{i}0")
        ]
        for page in range(1, pages + 1)
    ]


def sub_pdf(path, first: int, last: int) -> bytes:
    reader = pypdf.PdfReader(path)
    writer = pypdf.PdfWriter()
    for index in range(first - 1, last):
        writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_items_carry_the_page_of_the_file_they_were_read_on(tmp_path):
    path = tmp_path / "statement.pdf"
    write_text_pdf(path, statement_pages(3))
    with path.open("rb") as fh:
        text, pages = pdf_text(fh)
    assert pages == 3
    items = fill_schema(SCHEMA, text)["line_items"]
    assert [(i["description"], i["source_page"]) for i in items] == [
        (f"Item p{page} n{n}", page) for page in (1, 2, 3) for n in (0, 1)
    ]


def test_a_sub_pdf_yields_only_its_own_pages_items(tmp_path):
    path = tmp_path / "statement.pdf"
    write_text_pdf(path, statement_pages(5))
    text, pages = pdf_text(io.BytesIO(sub_pdf(path, 3, 4)))
    assert pages == 2
    items = fill_schema(SCHEMA, text)["line_items"]
    assert [(i["description"], i["amount"], i["source_page"]) for i in items] == [
        ("Item p3 n0", 3.0, 1),
        ("Item p3 n1", 3.1, 1),
        ("Item p4 n0", 4.0, 2),
        ("Item p4 n1", 4.1, 2),
    ]


def test_without_a_page_field_items_are_as_before(tmp_path):
    path = tmp_path / "statement.pdf"
    write_text_pdf(path, statement_pages(2))
    with path.open("rb") as fh:
        text, _ = pdf_text(fh)
    properties = {k: v for k, v in ITEM["properties"].items() if k != "source_page"}
    plain = {**ITEM, "properties": properties, "required": list(properties)}
    items = fill_schema({**SCHEMA, "properties": {"line_items": {"items": plain}}}, text)
    assert len(items["line_items"]) == 4 and "source_page" not in items["line_items"][0]


@pytest.mark.usefixtures("llm_settings")
def test_a_segment_call_over_http_answers_from_the_sub_pdf(settings, simulator, tmp_path):
    settings.LITELLM_BASE_URL = ""
    settings.GEMINI_BASE_URL = simulator.gemini_base_url
    settings.GEMINI_API_KEY = "AIzaPagesGeminiKey0000"
    whole = tmp_path / "statement.pdf"
    write_text_pdf(whole, statement_pages(6))
    segment = tmp_path / "pages-5-6.pdf"
    segment.write_bytes(sub_pdf(whole, 5, 6))
    outcome = service.extract(
        path=segment,
        filename=segment.name,
        page_count=2,
        size_bytes=segment.stat().st_size,
        instructions="This file holds pages 5-6 of the document.",
        schema=SCHEMA,
        model="gemini/gemini-2.5-flash",
        files=MemoryFileCache(),
    )
    assert [i["description"] for i in outcome.data["line_items"]] == [
        "Item p5 n0",
        "Item p5 n1",
        "Item p6 n0",
        "Item p6 n1",
    ]
    assert {i["source_page"] for i in outcome.data["line_items"]} == {1, 2}
