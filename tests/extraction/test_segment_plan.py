"""Segments without I/O (#14): page ranges, what a segment call asks, the merge and its dedupe;
and the sub-PDFs cut from a document."""

import jsonschema
import pypdf
import pytest

from extraction import segment_plan as plan
from extraction.pdfcut import Cutter
from extraction.profile_seeds import INVOICE_SCHEMA
from extraction.segment_plan import Pages, Piece
from extraction.textpdf import write_text_pdf


@pytest.mark.parametrize(
    ("total", "pages", "overlap", "expected"),
    [
        (25, 10, 1, [(1, 11), (11, 21), (21, 25)]),
        (21, 10, 1, [(1, 11), (11, 21)]),
        (11, 10, 1, [(1, 11)]),
        (10, 10, 1, [(1, 10)]),
        (7, 3, 0, [(1, 3), (4, 6), (7, 7)]),
        (300, 10, 1, [(1 + 10 * i, min(11 + 10 * i, 300)) for i in range(30)]),
    ],
)
def test_ranges_cover_every_page_sharing_the_overlap(total, pages, overlap, expected):
    assert plan.ranges(total, pages=pages, overlap=overlap) == [Pages(*r) for r in expected]


def test_halves_and_head_and_tail():
    assert Pages(1, 11).halves() == (Pages(1, 6), Pages(7, 11))
    assert plan.head_and_tail(300, first_pages=2, last_pages=1) == [1, 2, 300]
    assert plan.head_and_tail(2, first_pages=2, last_pages=1) == [1, 2]
    assert plan.spans([1, 2, 3, 299, 300]) == "1-3, 299-300"


def test_a_segment_call_asks_for_the_items_with_their_page_and_nothing_else():
    schema, page = plan.array_schema(INVOICE_SCHEMA, "line_items")
    assert page == "source_page"
    assert list(schema["properties"]) == ["line_items"]
    item = schema["properties"]["line_items"]["items"]
    assert item["required"][-1] == "source_page" and item["additionalProperties"] is False
    jsonschema.validate(
        {
            "line_items": [
                {"description": "x", "quantity": 1, "unit_price": 2, "amount": 2, page: 3}
            ]
        },
        schema,
    )
    assert "source_page" not in INVOICE_SCHEMA["properties"]["line_items"]["items"]["properties"]
    text = plan.array_instructions(
        "Read it.", name="line_items", pages=Pages(11, 21), total=300, page=page
    )
    assert "pages 11-21 of a 300-page document" in text and "page 11 of the document" in text
    other = plan.other_fields_schema(INVOICE_SCHEMA, frozenset({"line_items"}))
    assert "line_items" not in other["properties"] and "line_items" not in other["required"]


def test_merge_keeps_page_order_and_drops_the_overlaps_repeats():
    first = plan.piece_of(
        Pages(1, 3),
        [{"d": "a", "p": 1}, {"d": "b", "p": 3}, {"d": "c", "p": 3}],
        "p",
    )
    second = plan.piece_of(
        Pages(3, 5),
        [{"d": "b", "p": 1}, {"d": "c", "p": 1}, {"d": "c2", "p": 1}, {"d": "e", "p": 3}],
        "p",
    )
    items, pages, dropped = plan.merge([second, first])  # any order in, page order out
    assert items == [{"d": "a"}, {"d": "b"}, {"d": "c"}, {"d": "c2"}, {"d": "e"}]
    assert pages == [1, 3, 3, 3, 5]
    assert dropped == 2  # c2 was only seen by the second segment: kept


def test_the_same_line_twice_on_a_page_is_kept_twice():
    first = Piece(Pages(1, 2), [{"d": "x"}, {"d": "x"}], [2, 2])
    second = Piece(Pages(2, 3), [{"d": "x"}, {"d": "x"}, {"d": "x"}], [2, 2, 3])
    items, pages, dropped = plan.merge([first, second])
    assert pages == [2, 2, 3] and dropped == 2


def test_same_values_on_a_page_not_shared_are_not_repeats():
    first = Piece(Pages(1, 2), [{"d": "x"}], [1])
    second = Piece(Pages(2, 3), [{"d": "x"}], [3])
    assert plan.merge([first, second])[0] == [{"d": "x"}, {"d": "x"}]


def test_without_pages_the_common_run_at_the_boundary_is_dropped():
    first = Piece(Pages(1, 2), [{"d": "a"}, {"d": "b"}], [None, None])
    second = Piece(Pages(2, 3), [{"d": "b"}, {"d": "c"}], [None, None])
    items, _, dropped = plan.merge([first, second])
    assert items == [{"d": "a"}, {"d": "b"}, {"d": "c"}] and dropped == 1


def test_a_page_outside_the_segment_is_unknown():
    piece = plan.piece_of(Pages(5, 6), [{"d": "a", "p": 3}, {"d": "b", "p": 2}], "p")
    assert piece.item_pages == [None, 6]


def test_assemble_follows_the_schema_order():
    data = plan.assemble(INVOICE_SCHEMA, {"total": 1, "invoice_number": "A"}, {"line_items": []})
    assert list(data) == ["invoice_number", "total", "line_items"]


def test_cut_writes_real_sub_pdfs_of_the_pages_asked(tmp_path):
    source = tmp_path / "doc.pdf"
    write_text_pdf(source, ([f"Page marker {n}"] for n in range(1, 31)))
    cutter = Cutter(source, tmp_path)
    cut = cutter.cut([11, 12, 30], "part.pdf")
    reader = pypdf.PdfReader(cut)
    assert [p.extract_text().strip() for p in reader.pages] == [
        "Page marker 11",
        "Page marker 12",
        "Page marker 30",
    ]
    assert cut.stat().st_size < source.stat().st_size
