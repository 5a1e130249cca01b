"""The simulator's demo answers are plausible in general: totals after their usual phrases,
ISO dates, identifiers after their label, the currency, and a summary from the first sentences.
Synthetic texts cover the variants; the real PDFs check that nothing is tuned to one of them."""

import logging
import re
from pathlib import Path

import jsonschema
import pytest

from extraction.profile_seeds import INVOICE_SCHEMA, SUMMARY_SCHEMA
from llm.simulator.fill import fill_schema
from llm.simulator.store import pdf_text

PDFS = Path(__file__).resolve().parents[1] / "fixtures" / "pdfs"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def invoice(text: str) -> dict:
    value = fill_schema(INVOICE_SCHEMA, text)
    jsonschema.validate(value, INVOICE_SCHEMA)
    return value


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("Booking ID IBZY2087\nGrand Total Rs 1939", 1939),
        ("Amount due: $1,234.56", 1234.56),
        ("Amount Due (USD) 77.00", 77.0),
        ("Balance Due\n$ 98.10", 98.1),
        ("Total HT : 46,68 €\nTotal TTC : 56,02 €", 56.02),
        ("Subtotal 100.00\nTax 20.00\nTotal 120.00", 120.0),
        ("TOTAL AMOUNT DUE ON August 3, 2014 $4.11", 4.11),
        ("Invoice total USD 1 234.50", 1234.5),
        ("Total € Incl. VAT 681.87", 681.87),
        ("Gesamtbetrag: 571,04 €", 571.04),
        ("Total to pay: 12.5 GBP", 12.5),
        ("GRAND TOTAL\n1,939.00", 1939.0),
    ],
)
def test_totals_after_their_usual_phrases(text, total):
    assert invoice(text)["total"] == total


@pytest.mark.parametrize(
    "text",
    [
        "Total 632 53,454 90 212 12 12",  # a table's counts, not an amount
        "Total amount due soon",
        "Totals by state",
    ],
)
def test_no_total_is_made_up(text):
    assert invoice(text)["total"] is None


def test_subtotal_tax_and_currency_beside_the_total():
    value = invoice("Subtotal 100.00\nVAT 20% 20.00\nTotal EUR 120.00\nThank you.")
    assert (value["subtotal"], value["tax_total"], value["total"]) == (100.0, 20.0, 120.0)
    assert value["currency"] == "EUR"
    assert invoice("Grand Total Rs 1939")["currency"] == "INR"


@pytest.mark.parametrize(
    ("text", "issued", "due"),
    [
        ("Invoice Date: March 5, 2024\nDue Date: April 4, 2024", "2024-03-05", "2024-04-04"),
        ("Date: 05/03/2024\nPayment due by 15.04.2024", "2024-03-05", "2024-04-15"),
        ("Invoice 12\nDated 2nd January 2023", "2023-01-02", None),
        ("Thank you for your order of 06/22/2015.", "2015-06-22", None),
        (
            "Facture du 02 Juillet 2015\nDate limite de paiement le 05 Juillet 2015",
            "2015-07-02",
            "2015-07-05",
        ),
    ],
)
def test_dates_are_iso(text, issued, due):
    value = invoice(text)
    assert (value["issue_date"], value["due_date"]) == (issued, due)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Invoice 103767\nFebruary 17, 2026", "103767"),
        ("Facture n° 2022089083", "2022089083"),
        ("Rechnung # RE-20170509/505 von 09.05.2017", "RE-20170509/505"),
        ("Invoice No 2024-0042", "2024-0042"),
        ("Invoice Summary\nNothing here", None),
    ],
)
def test_identifiers_after_their_label_without_a_colon(text, number):
    assert invoice(text)["invoice_number"] == number


def test_any_identifier_field_takes_its_label_without_a_colon():
    schema = {"type": "object", "properties": {"booking_id": {"type": ["string", "null"]}}}
    assert fill_schema(schema, "Booking ID IBZY2087\nGrand Total Rs 1939") == {
        "booking_id": "IBZY2087"
    }


def test_summary_title_type_and_dates_of_a_letter():
    text = (
        "Notice of Annual Meeting\n"
        "Dear members, the annual meeting of the association will take place on 12 May 2025 "
        "in the town hall.\nThe board will present the accounts and the budget for next year. "
        "Members may vote by proxy. Refreshments will be served afterwards.\n"
        "Proxy forms are due by 05/05/2025.\n"
    )
    value = fill_schema(SUMMARY_SCHEMA, text)
    jsonschema.validate(value, SUMMARY_SCHEMA)
    assert value["title"] == "Notice of Annual Meeting"
    assert value["summary"].startswith("Dear members, the annual meeting")
    assert "Members may vote by proxy." in value["summary"]
    assert "Refreshments" not in value["summary"]  # the first sentences, not all of them
    assert value["document_type"] == "letter"
    assert [d["date"] for d in value["key_dates"]] == ["2025-05-12", "2025-05-05"]
    assert "annual meeting" in value["key_dates"][0]["description"]


def test_nothing_to_read_gives_nothing_made_up():
    assert fill_schema(SUMMARY_SCHEMA, "") == {
        "title": None,
        "document_type": None,
        "summary": "",
        "key_dates": [],
        "parties": [],
    }
    assert all(v in (None, []) for v in invoice("").values())  # every field null, no lines


@pytest.fixture(scope="module")
def texts():
    """name -> text of the real PDFs up to 400 KB with a text layer (the larger ones only make
    the test slower: their text is read the same way)."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    found = {}
    for folder in ("truth", "good"):
        for path in sorted((PDFS / folder).glob("*.pdf")):
            if path.stat().st_size > 400_000:
                continue
            with path.open("rb") as fh:
                text, _pages = pdf_text(fh)
            if text.strip():
                found[f"{folder}/{path.name}"] = text
    return found


def test_real_invoices_are_not_all_null_and_their_dates_are_iso(texts):
    invoices = [
        (name, text)
        for name, text in texts.items()
        if name.startswith("truth/") and re.search("invoice|factu|rechnung", text, re.I)
    ]
    assert len(invoices) >= 10
    for name, text in invoices:
        value = invoice(text)
        found = {k: v for k, v in value.items() if v is not None and k != "line_items"}
        assert found, f"{name}: every field null"
        for key in ("issue_date", "due_date"):
            if value[key] is not None:
                assert re.match(ISO_DATE, value[key]), name
    with_total = [name for name, text in invoices if invoice(text)["total"] is not None]
    assert len(with_total) >= len(invoices) * 2 // 3, with_total


def test_real_documents_with_text_get_a_summary(texts):
    assert len(texts) >= 25
    for name, text in texts.items():
        value = fill_schema(SUMMARY_SCHEMA, text)
        jsonschema.validate(value, SUMMARY_SCHEMA)
        assert value["summary"], f"{name}: empty summary"
        assert len(value["summary"]) <= 400
