"""Schema filling: label matching, coercion, nullability and Gemini's schema dialect."""

import json
from pathlib import Path

import jsonschema
import pytest

from llm.simulator.fill import fill_schema, label_pairs, normalise_schema, parse_date, violate
from llm.simulator.store import pdf_text

TRUTH = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pdfs" / "truth"


def text_of(name: str) -> str:
    with (TRUTH / name).open("rb") as fh:
        return pdf_text(fh)[0]


def truth(name: str) -> dict:
    data = json.loads((TRUTH / name).read_text())
    return data[0] if isinstance(data, list) else data


INVOICE = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoiceDate": {"type": ["string", "null"], "format": "date"},
        "total_ttc": {"type": ["number", "null"]},
        "customer_number": {"type": ["integer", "null"]},
        "po_number": {"type": ["string", "null"]},
        "paid": {"type": "boolean"},
    },
    "required": [
        "invoice_number",
        "invoiceDate",
        "total_ttc",
        "customer_number",
        "po_number",
        "paid",
    ],
    "additionalProperties": False,
}


def test_label_value_lines_match_snake_and_camel_names():
    text = (
        "Invoice No.: INV-7\nInvoice Date: 03/02/2024\nTotal TTC : 1.234,50 €\nCustomer number:\n42"
    )
    value = fill_schema(INVOICE, text)
    assert value == {
        "invoice_number": "INV-7",
        "invoiceDate": "2024-02-03",
        "total_ttc": 1234.5,
        "customer_number": 42,
        "po_number": None,
        "paid": False,
    }
    jsonschema.validate(value, INVOICE)


def test_real_invoice_values_come_from_the_pdf_text():
    expected = truth("coolblue1.json")
    value = fill_schema(
        {
            "type": "object",
            "properties": {
                "factuurnummer": {"type": "string"},
                "factuurdatum": {"type": "string", "format": "date"},
                "klantnummer": {"type": "string"},
            },
        },
        text_of("coolblue1.pdf"),
    )
    assert value["factuurnummer"] == expected["invoice_number"]
    assert value["factuurdatum"] == expected["date"]
    assert value["klantnummer"] in expected["note"]


def test_aws_invoice_number_and_date():
    expected = truth("AmazonWebServices.json")
    value = fill_schema(INVOICE, text_of("AmazonWebServices.pdf"))
    assert value["invoice_number"] == expected["invoice_number"]
    assert value["invoiceDate"] == expected["date"]


def test_netpresse_total_in_european_format():
    value = fill_schema(INVOICE, text_of("NetpresseInvoice.pdf"))
    assert value["total_ttc"] == 56.02


def test_nothing_matching_gives_null_or_a_type_correct_empty_value():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "number"},
            "c": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "d": {"type": "object", "properties": {"e": {"type": ["integer", "null"]}}},
            "f": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "g": {"type": "string", "enum": ["low", "high"]},
        },
    }
    value = fill_schema(schema, "")
    assert value == {"a": "", "b": 0, "c": [""], "d": {"e": None}, "f": None, "g": "low"}
    jsonschema.validate(value, schema)


def test_refs_and_nested_objects_are_filled():
    schema = {
        "$defs": {
            "Party": {
                "type": "object",
                "properties": {
                    "name": {"type": ["string", "null"]},
                    "vat_id": {"type": ["string", "null"]},
                },
            }
        },
        "type": "object",
        "properties": {"seller": {"$ref": "#/$defs/Party"}},
    }
    value = fill_schema(schema, "Seller name: ACME\nVAT ID: FR123")
    assert value == {"seller": {"name": "ACME", "vat_id": "FR123"}}


def test_gemini_openapi_dialect():
    schema = {
        "type": "OBJECT",
        "properties": {
            "invoice_number": {"type": "STRING"},
            "total": {"type": "NUMBER", "nullable": True},
        },
        "required": ["invoice_number", "total"],
        "propertyOrdering": ["invoice_number", "total"],
    }
    value = fill_schema(schema, "Invoice number: 12\n")
    assert value == {"invoice_number": "12", "total": None}
    jsonschema.validate(value, normalise_schema(schema))


def test_a_constraint_the_filler_ignores_still_gives_valid_output():
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "required": ["code"],
    }
    value = fill_schema(schema, "Code: 12345")
    assert value == {"code": ""} or jsonschema.validate(value, schema) is None


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("August 3 , 2014", "2014-08-03"),
        ("28/11/2022", "2022-11-28"),
        ("19 april 2014", "2014-04-19"),
        ("2014-08-03", "2014-08-03"),
        ("20260131", "2026-01-31"),
        ("soon", None),
    ],
)
def test_dates(raw, iso):
    assert parse_date(raw) == iso


def test_glued_and_multiple_labels_on_a_line():
    pairs = dict(
        (" ".join(k), v)
        for k, v in label_pairs("993548900Factuurnummer:\nIBAN : FR76 1010 - BIC : BREDFRPP\n")
    )
    assert pairs["factuurnummer"] == "993548900"
    assert pairs["iban"] == "FR76 1010" and pairs["bic"] == "BREDFRPP"


def test_violate_breaks_the_schema():
    value = fill_schema(INVOICE, "Invoice number: 1")
    broken = violate(value, INVOICE)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, INVOICE)


def test_amounts_at_the_end_of_a_line_fill_number_fields():
    schema = {"type": "object", "properties": {"total_amount": {"type": ["number", "null"]}}}
    value = fill_schema(schema, text_of("AmazonWebServices.pdf"))
    assert value["total_amount"] == truth("AmazonWebServices.json")["amount"]
    assert fill_schema(schema, "Total amount 1 234,50 EUR") == {"total_amount": 1234.5}
    assert fill_schema(schema, "Total amount due soon") == {"total_amount": None}


def test_repeated_label_groups_become_array_items():
    item = {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "parts": {"type": ["string", "null"]},
            "tax": {"type": ["number", "null"]},
            "sku": {"type": ["string", "null"]},
        },
        "required": ["description", "parts", "tax", "sku"],
        "additionalProperties": False,
    }
    schema = {"type": "object", "properties": {"lines": {"type": "array", "items": item}}}
    value = fill_schema(schema, text_of("SammyMaystoneLinesTest.pdf"))
    expected = truth("SammyMaystoneLinesTest.json")["line_items"]
    assert [f"Parts: {line['parts']}" for line in value["lines"]] == [e["desc"] for e in expected]
    assert value["lines"][0] == {
        "description": "Repair",
        "parts": "1 x cap_a",
        "tax": 0.2,
        "sku": None,
    }
    capped = {
        "type": "object",
        "properties": {"lines": {"type": "array", "items": item, "maxItems": 1}},
    }
    assert len(fill_schema(capped, text_of("SammyMaystoneLinesTest.pdf"))["lines"]) == 1


def test_recursive_schemas_terminate():
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
            }
        },
        "$ref": "#/$defs/Node",
    }
    value = fill_schema(tree, "Name: root\nName: leaf")
    assert value["name"] == "root"
    assert [child["name"] for child in value["children"]] == ["root", "leaf"]
    jsonschema.validate(value, tree)
    endless = {"type": "object", "properties": {"self": {"$ref": "#"}}, "required": ["self"]}
    assert fill_schema(endless, "")["self"]["self"]["self"] is not None
