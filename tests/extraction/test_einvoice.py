"""Embedded e-invoices: detection in real Factur-X / ZUGFeRD PDFs, every invoice field read from
their XML (checked against the *.fields.json ground truth beside them), UBL, bad XML."""

import json
from pathlib import Path

import pytest

from extraction.verification.einvoice import (
    EmbeddedInvoiceUnusable,
    embedded_invoice_detect,
    embedded_invoice_read,
    embedded_xml_find,
    invoice_from_xml,
)
from extraction.verification.invoice_fields import INVOICE_FIELDS, LINE_FIELDS
from tests import pdfgen

TRUTH = pdfgen.PDFS / "truth"
UBL_XML = pdfgen.REPO_ROOT / "tests" / "fixtures" / "einvoice" / "xrechnung-ubl.xml"

# stem → (its embedded XML beside it, what intake records)
EINVOICES = {
    "103767-Invoice-2026-03-24-1": (
        "factur-x.xml",
        {"standard": "factur-x", "profile": "en16931", "syntax": "cii"},
    ),
    "MustangBeispiel20221026": (
        "factur-x.xml",
        {"standard": "factur-x", "profile": "en16931", "syntax": "cii"},
    ),
    "MustangGnuaccountingBeispielRE-20170509_505": (
        "ZUGFeRD-invoice.xml",
        {"standard": "zugferd", "profile": "basic", "syntax": "cii-zugferd1"},
    ),
    "ZTESTZUGFERD_1_INVDSS_012015738820PDF-1": (
        "zugferd-invoice.xml",
        {"standard": "zugferd", "profile": "extended", "syntax": "cii"},
    ),
    "invoice_EN16931": (
        "factur-x.xml",
        {"standard": "factur-x", "profile": "en16931", "syntax": "cii"},
    ),
}
# Net prices per a base quantity (BT-149): fields.json copies BT-146 as it is, we divide.
UNIT_PRICE_PER_BASE_QUANTITY = {("invoice_EN16931", 1): 30.0 / 3}


def _iso(day):
    return None if day is None else f"{day[:4]}-{day[4:6]}-{day[6:]}"


def expected_invoice(stem: str) -> dict:
    """The invoice schema's fields from the ground truth summary of the XML."""
    truth = json.loads((TRUTH / f"{stem}.fields.json").read_text(encoding="utf-8"))
    return {
        "invoice_number": truth["invoice_number"],
        "issue_date": _iso(truth["issue_date"]),
        "due_date": _iso(truth["due_date"]),
        "seller_name": truth["seller_name"],
        "seller_vat_id": truth["seller_vat_id"],
        "buyer_name": truth["buyer_name"],
        "currency": truth["currency"],
        "subtotal": truth["tax_basis_total_amount"],  # BT-109: the total before tax
        "tax_total": truth["tax_total_amount"],
        "total": truth["grand_total_amount"],
        "line_items": [
            {
                "description": line["name"],
                "quantity": line["quantity"],
                "unit_price": UNIT_PRICE_PER_BASE_QUANTITY.get(
                    (stem, index), line["net_unit_price"]
                ),
                "amount": line["line_total"],
            }
            for index, line in enumerate(truth["lines"])
        ],
    }


def xml_of(stem: str) -> bytes:
    return (TRUTH / f"{stem}.{EINVOICES[stem][0]}").read_bytes()


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", sorted(EINVOICES))
def test_detect_finds_the_embedded_invoice_in_real_pdfs(stem):
    found = embedded_xml_find(TRUTH / f"{stem}.pdf")

    assert found is not None
    assert found.xml == xml_of(stem)  # byte for byte what the issuer embedded
    assert found.filename == EINVOICES[stem][0]
    described = embedded_invoice_detect(TRUTH / f"{stem}.pdf")
    assert {k: described[k] for k in ("standard", "profile", "syntax")} == EINVOICES[stem][1]


@pytest.mark.parametrize(
    "path",
    [
        TRUTH / "AmazonWebServices.pdf",
        TRUTH / "coolblue1.pdf",
        pdfgen.PDFS / "good" / "multipage.pdf",
        pdfgen.PDFS / "bad" / "corrupt-factur-x-waytoosmall.pdf",
        pdfgen.PDFS / "bad" / "AmazonWebServices-truncated-60pct.pdf",
        pdfgen.PDFS / "bad" / "libreoffice-writer-password.pdf",
    ],
    ids=lambda p: p.name,
)
def test_detect_answers_none_for_pdfs_without_one_and_never_raises(path):
    assert embedded_invoice_detect(path) is None


def test_detect_ignores_an_attachment_that_is_not_xml(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(pdfgen.pdf_with_attachment("factur-x.xml", b"<not xml"))

    assert embedded_invoice_detect(pdf) is None


def test_detect_ignores_an_order_x_purchase_order(tmp_path):
    order = (
        b'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:'
        b'SCRDMCCBDACIOMessageStructure:100"/>'
    )
    pdf = tmp_path / "order.pdf"
    pdf.write_bytes(pdfgen.pdf_with_attachment("order-x.xml", order))

    assert embedded_invoice_detect(pdf) is None


def test_detect_finds_a_ubl_xrechnung(tmp_path):
    pdf = tmp_path / "ubl.pdf"
    pdf.write_bytes(pdfgen.pdf_with_attachment("xrechnung.xml", UBL_XML.read_bytes()))

    found = embedded_invoice_detect(pdf)

    assert found["standard"] == "xrechnung"
    assert found["profile"] == "en16931"
    assert found["syntax"] == "ubl"
    assert embedded_invoice_read(pdf)["invoice_number"] == "UBL-2026-0042"


# --- every field of the invoice schema, from the XML ----------------------------------------


def test_every_schema_field_is_mapped():
    from extraction.profile_seeds import INVOICE_SCHEMA

    assert set(INVOICE_FIELDS) == set(INVOICE_SCHEMA["properties"])
    line_schema = INVOICE_SCHEMA["properties"]["line_items"]["items"]["properties"]
    assert set(LINE_FIELDS) == set(line_schema)


HEADER_FIELDS = [name for name in INVOICE_FIELDS if name != "line_items"]


@pytest.mark.parametrize("field", HEADER_FIELDS)
@pytest.mark.parametrize("stem", sorted(EINVOICES))
def test_header_field_read_from_cii(field, stem):
    assert invoice_from_xml(xml_of(stem))[field] == expected_invoice(stem)[field]


@pytest.mark.parametrize("field", LINE_FIELDS)
@pytest.mark.parametrize("stem", sorted(EINVOICES))
def test_line_item_field_read_from_cii(field, stem):
    lines = invoice_from_xml(xml_of(stem))["line_items"]
    expected = expected_invoice(stem)["line_items"]

    assert len(lines) == len(expected)
    assert [line[field] for line in lines] == [line[field] for line in expected]


def test_mustang_xml_says_963_11_where_the_page_prints_963_12():
    result = invoice_from_xml(xml_of("MustangBeispiel20221026"))

    assert result["total"] == 963.11
    assert result["subtotal"] + result["tax_total"] == pytest.approx(963.11)


def test_ubl_fields_are_read():
    assert invoice_from_xml(UBL_XML.read_bytes()) == {
        "invoice_number": "UBL-2026-0042",
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
        "seller_name": "Beispiel Handel GmbH",
        "seller_vat_id": "DE136695976",
        "buyer_name": "Kunde & Co. KG",
        "currency": "EUR",
        "subtotal": 200.0,
        "tax_total": 38.0,
        "total": 238.0,
        "line_items": [
            {"description": "Ordner A4", "quantity": 4.0, "unit_price": 37.5, "amount": 150.0},
            {"description": "Etiketten", "quantity": 100.0, "unit_price": 0.5, "amount": 50.0},
        ],
    }


def test_ubl_credit_note_lines_are_read():
    xml = (
        UBL_XML.read_text(encoding="utf-8")
        .replace("ubl:Invoice", "ubl:CreditNote")
        .replace(":Invoice-2", ":CreditNote-2")
        .replace("InvoiceLine", "CreditNoteLine")
        .replace("InvoicedQuantity", "CreditedQuantity")
        .replace("<cbc:DueDate>2026-03-31</cbc:DueDate>", "")
    )

    result = invoice_from_xml(xml.encode(), "ubl-2.1-creditnote")

    assert [line["quantity"] for line in result["line_items"]] == [4.0, 100.0]
    assert result["due_date"] is None


def test_tax_total_in_the_invoice_currency_when_an_accounting_currency_is_also_given():
    xml = xml_of("invoice_EN16931").replace(
        b"<ram:TaxTotalAmount",
        b'<ram:TaxTotalAmount currencyID="USD">5.31</ram:TaxTotalAmount><ram:TaxTotalAmount',
        1,
    )

    assert invoice_from_xml(xml)["tax_total"] == 4.9


# --- bad XML: never a crash, a clear reason ------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<rsm:CrossIndustryInvoice", "malformed"),
        (b"<Order xmlns='urn:example'/>", "not an e-invoice"),
        (
            b"<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:"
            b"CrossIndustryInvoice:100'/>",
            "no invoice_number and no total",
        ),
    ],
)
def test_unusable_xml_raises_a_clear_reason(xml, reason):
    with pytest.raises(EmbeddedInvoiceUnusable, match=reason):
        invoice_from_xml(xml)


def test_an_amount_that_is_not_a_number_makes_the_xml_unusable():
    xml = xml_of("invoice_EN16931").replace(b">104.90<", b">104,90 EUR<")

    with pytest.raises(EmbeddedInvoiceUnusable, match="GrandTotalAmount is not a number"):
        invoice_from_xml(xml)


def test_xml_entities_are_not_expanded():
    xml = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + xml_of(
        "invoice_EN16931"
    ).split(b"?>", 1)[-1].replace(b"<ram:Name>LE CLIENT</ram:Name>", b"<ram:Name>&x;</ram:Name>", 1)

    result = invoice_from_xml(xml)

    assert "root:" not in json.dumps(result)


def test_read_from_a_pdf_whose_xml_is_malformed_is_unusable(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(pdfgen.pdf_with_attachment("factur-x.xml", b"<oops"))

    with pytest.raises(EmbeddedInvoiceUnusable):
        embedded_invoice_read(pdf)


def test_fixture_files_exist():
    assert all(Path(TRUTH / f"{stem}.pdf").exists() for stem in EINVOICES)


def test_detect_reads_past_leading_junk(tmp_path):
    junk = b"X-Scanner: 1\r\n" * 20
    pdf = tmp_path / "junk.pdf"
    pdf.write_bytes(junk + (TRUTH / "MustangBeispiel20221026.pdf").read_bytes())

    assert embedded_invoice_detect(pdf, start=len(junk))["standard"] == "factur-x"
