"""The profiles every installation starts with (seeded by migration 0002, editable in the admin).

Schemas are written for strict structured outputs: every property is listed in `required` and
missing values are `null`, so one schema works with OpenAI, Gemini and Anthropic.
"""

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_DATE = {"type": ["string", "null"], "description": "ISO 8601 date, YYYY-MM-DD"}
_NULLABLE_NUMBER = {"type": ["number", "null"]}


def _object(properties: dict) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


INVOICE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "invoice_number": _NULLABLE_STRING,
            "issue_date": _NULLABLE_DATE,
            "due_date": _NULLABLE_DATE,
            "seller_name": _NULLABLE_STRING,
            "seller_vat_id": _NULLABLE_STRING,
            "buyer_name": _NULLABLE_STRING,
            "currency": {
                "type": ["string", "null"],
                "description": "ISO 4217 code, e.g. EUR",
            },
            "subtotal": _NULLABLE_NUMBER,
            "tax_total": _NULLABLE_NUMBER,
            "total": _NULLABLE_NUMBER,
            "line_items": {
                "type": "array",
                "items": _object(
                    {
                        "description": _NULLABLE_STRING,
                        "quantity": _NULLABLE_NUMBER,
                        "unit_price": _NULLABLE_NUMBER,
                        "amount": _NULLABLE_NUMBER,
                    }
                ),
            },
        }
    ),
}

SUMMARY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "title": _NULLABLE_STRING,
            "document_type": {
                "type": ["string", "null"],
                "description": "e.g. invoice, contract, report, form, letter, paper, minutes",
            },
            "summary": {"type": "string"},
            "key_dates": {
                "type": "array",
                "items": _object({"date": _NULLABLE_DATE, "description": _NULLABLE_STRING}),
            },
            "parties": {
                "type": "array",
                "items": _object({"name": {"type": "string"}, "role": _NULLABLE_STRING}),
            },
        }
    ),
}

PROFILES = [
    {
        "slug": "invoice",
        "name": "Invoice",
        "instructions": (
            "You read one invoice (the attached PDF, all pages) and return its key fields as JSON "
            "matching the schema. Copy identifiers exactly as printed (invoice number, VAT id). "
            "Dates as YYYY-MM-DD. Amounts as plain numbers without currency symbols or thousands "
            "separators; the currency as an ISO 4217 code. subtotal is the total before tax, "
            "tax_total the sum of taxes, total the amount due. One line_items entry per invoice "
            "line, in order. Use null for anything the document does not state; never guess."
        ),
        "schema": INVOICE_SCHEMA,
        "default_model": "gemini/gemini-2.5-flash",
        "fallback_models": ["openai/gpt-4o", "anthropic/claude-sonnet-4-6"],
    },
    {
        "slug": "summary",
        "name": "Summary",
        "instructions": (
            "You read the attached PDF (all pages) and describe it as JSON matching the "
            "schema: its title, what kind of document it is, a faithful summary of at most "
            "120 words in the document's own language, the dates that matter (YYYY-MM-DD, "
            "each with what happens then) and the parties involved (people or organisations, "
            "with their role). Use null or an empty list for anything the document does not "
            "state; never guess."
        ),
        "schema": SUMMARY_SCHEMA,
        "default_model": "gemini/gemini-2.5-flash",
        "fallback_models": ["anthropic/claude-sonnet-4-6", "openai/gpt-4o"],
    },
]

# Long-document settings of the seeded profiles (extraction.segmenting; set by migration 0016,
# unless an operator already changed them): invoice lines in segments of 10 pages + 1 shared,
# summaries of documents over every model's limits map-reduced over 50-page segments.
SEGMENTING = {
    "invoice": {"arrays": {"line_items": {"mode": "segmented", "pages": 10, "overlap": 1}}},
    "summary": {"map_reduce": {"pages": 50}},
}
