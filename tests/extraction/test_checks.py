"""The checks registry and the invoice rules (arithmetic, dates, ISO 4217, VAT ids); the model
answer compared with an embedded XML."""

import pytest

from extraction.verification.checks import (
    REGISTRY,
    Outcome,
    check,
    checks_failed,
    checks_run,
    unknown_checks,
)
from extraction.verification.einvoice import invoice_from_xml
from extraction.verification.embedded_compare import embedded_comparison
from extraction.verification.invoice_checks import INVOICE_CHECKS
from tests import pdfgen

TRUTH = pdfgen.PDFS / "truth"


def invoice(**fields):
    base = {
        "invoice_number": "A-1",
        "issue_date": "2026-01-31",
        "due_date": "2026-03-02",
        "seller_name": "S",
        "seller_vat_id": "FR11123456782",
        "buyer_name": "B",
        "currency": "EUR",
        "subtotal": 100.0,
        "tax_total": 20.0,
        "total": 120.0,
        "line_items": [
            {"description": "a", "quantity": 3, "unit_price": 10.0, "amount": 30.0},
            {"description": "b", "quantity": 7, "unit_price": 10.0, "amount": 70.0},
        ],
    }
    return {**base, **fields}


def one(rule, result):
    (outcome,) = checks_run([rule], result)
    assert outcome["rule"] == rule
    return outcome


def test_a_clean_invoice_passes_every_rule():
    outcomes = checks_run(INVOICE_CHECKS, invoice())

    assert [o["ok"] for o in outcomes] == [True] * len(INVOICE_CHECKS)
    assert not checks_failed(outcomes)


@pytest.mark.parametrize(
    ("rule", "fields", "ok"),
    [
        ("totals_add_up", {"total": 120.01}, True),  # rounding: within a cent
        ("totals_add_up", {"total": 120.02}, False),
        ("totals_add_up", {"tax_total": None}, None),
        ("lines_sum_to_subtotal", {"subtotal": 100.01}, True),
        ("lines_sum_to_subtotal", {"subtotal": 101.0}, False),
        ("lines_sum_to_subtotal", {"subtotal": None}, None),
        ("lines_sum_to_subtotal", {"line_items": []}, None),
        (
            "line_amounts",
            {"line_items": [{"quantity": 3, "unit_price": 0.333, "amount": 1.0}]},
            True,
        ),
        ("line_amounts", {"line_items": [{"quantity": 3, "unit_price": 10, "amount": 28}]}, False),
        (
            "line_amounts",
            {"line_items": [{"quantity": None, "unit_price": 10, "amount": 28}]},
            None,
        ),
        ("due_date_not_before_issue_date", {"due_date": "2026-01-31"}, True),
        ("due_date_not_before_issue_date", {"due_date": "2026-01-30"}, False),
        ("due_date_not_before_issue_date", {"due_date": None}, None),
        ("due_date_not_before_issue_date", {"due_date": "31/12/2026"}, False),
        ("currency_iso4217", {"currency": "INR"}, True),
        ("currency_iso4217", {"currency": "EURO"}, False),
        ("currency_iso4217", {"currency": "€"}, False),
        ("currency_iso4217", {"currency": None}, None),
        ("seller_vat_id_valid", {"seller_vat_id": "DE 136 695 976"}, True),
        ("seller_vat_id_valid", {"seller_vat_id": "DE136695977"}, False),  # checksum
        ("seller_vat_id_valid", {"seller_vat_id": "EL094259216"}, True),  # Greece's prefix
        ("seller_vat_id_valid", {"seller_vat_id": "GB980780684"}, True),  # not EU: stdnum's gb
        ("seller_vat_id_valid", {"seller_vat_id": "136695976"}, None),  # no prefix
        ("seller_vat_id_valid", {"seller_vat_id": None}, None),
    ],
)
def test_rule(rule, fields, ok):
    outcome = one(rule, invoice(**fields))

    assert outcome["ok"] is ok, outcome
    assert outcome["detail"]
    if ok is None:
        assert outcome["detail"].startswith("skipped")


def test_a_skipped_rule_is_not_a_failure():
    outcomes = checks_run(INVOICE_CHECKS, {name: None for name in invoice()})

    assert all(o["ok"] is None for o in outcomes)
    assert not checks_failed(outcomes)


def test_a_failure_names_the_line_and_the_numbers():
    lines = [
        {"quantity": 2, "unit_price": 5, "amount": 10},
        {"quantity": 3, "unit_price": 10, "amount": 28},
    ]
    outcome = one("line_amounts", invoice(line_items=lines))

    assert outcome["detail"] == "line_items[1]: 3 × 10 = 30.00, amount 28.00"


def test_unknown_names_are_reported_not_raised():
    assert unknown_checks(["totals_add_up", "nope"]) == ["nope"]
    assert checks_run(["nope"], invoice()) == [
        {"rule": "nope", "ok": None, "detail": "skipped: no such check"}
    ]


def test_a_rule_that_raises_never_breaks_the_run():
    @check("test_explodes", "raises")
    def explodes(data):
        raise RuntimeError("boom")

    try:
        assert one("test_explodes", invoice()) == {
            "rule": "test_explodes",
            "ok": None,
            "detail": "skipped: the check raised RuntimeError",
        }
    finally:
        del REGISTRY["test_explodes"]


def test_other_profiles_register_their_own_rules():
    @check("test_has_title", "title is set")
    def has_title(data):
        return Outcome(bool(data.get("title")), "title")

    try:
        assert one("test_has_title", {"title": "x"})["ok"] is True
        with pytest.raises(ValueError, match="registered twice"):
            check("test_has_title", "again")(has_title)
    finally:
        del REGISTRY["test_has_title"]


def test_non_numbers_are_not_guessed_at():
    assert one("totals_add_up", invoice(total="120"))["ok"] is None


# --- the rules on the real embedded invoices -------------------------------------------------


def xml_result(name):
    return invoice_from_xml((TRUTH / name).read_bytes())


def test_real_invoice_103767_has_a_made_up_vat_id():
    outcomes = {
        o["rule"]: o
        for o in checks_run(INVOICE_CHECKS, xml_result("103767-Invoice-2026-03-24-1.factur-x.xml"))
    }

    assert outcomes["seller_vat_id_valid"]["ok"] is False  # DE777777777: checksum fails
    assert [outcomes[r]["ok"] for r in INVOICE_CHECKS if r != "seller_vat_id_valid"] == [True] * 5


def test_real_invoice_with_a_document_level_charge_fails_the_lines_sum():
    # MustangBeispiel: lines 804.35 + a 4.99 charge = 809.34 before tax; the schema has no charges.
    outcomes = {
        o["rule"]: o
        for o in checks_run(INVOICE_CHECKS, xml_result("MustangBeispiel20221026.factur-x.xml"))
    }

    assert outcomes["totals_add_up"]["ok"] is True
    assert outcomes["lines_sum_to_subtotal"]["ok"] is False
    assert outcomes["lines_sum_to_subtotal"]["detail"] == "2 lines sum to 804.35, subtotal 809.34"
    assert outcomes["due_date_not_before_issue_date"]["ok"] is None  # no due date in the XML
    assert outcomes["seller_vat_id_valid"]["ok"] is True


# --- the model's answer against the embedded XML --------------------------------------------


def test_comparison_marks_the_one_cent_mismatch_of_mustang():
    embedded = xml_result("MustangBeispiel20221026.factur-x.xml")
    printed = {**embedded, "total": 963.12, "seller_vat_id": "de 327 606 228"}

    comparison = embedded_comparison(printed, embedded)

    assert comparison["total"] == {"status": "contradicts_embedded", "embedded_value": 963.11}
    assert comparison["seller_vat_id"]["status"] == "matches_embedded"
    assert comparison["line_items[1].amount"] == {
        "status": "matches_embedded",
        "embedded_value": 719.4,
    }
    contradicted = [p for p, c in comparison.items() if c["status"] == "contradicts_embedded"]
    assert contradicted == ["total"]


def test_comparison_flags_values_the_model_missed_or_invented():
    embedded = xml_result("invoice_EN16931.factur-x.xml")
    answer = {**embedded, "due_date": None, "line_items": embedded["line_items"][:2]}
    answer["buyer_name"] = "SOMEONE ELSE"

    comparison = embedded_comparison(answer, embedded)

    assert comparison["due_date"]["status"] == "contradicts_embedded"
    assert comparison["buyer_name"]["status"] == "contradicts_embedded"
    assert comparison["line_items[2].amount"] == {
        "status": "contradicts_embedded",
        "embedded_value": 7.0,
    }
    invented = embedded_comparison(
        {**embedded, "line_items": [*embedded["line_items"], {}]}, embedded
    )
    assert all(v["status"] == "matches_embedded" for v in invented.values())  # {} has no leaves


def test_checks_for_run_applies_the_profiles_list():
    from types import SimpleNamespace

    from extraction.verification.checks import checks_for_run

    run = SimpleNamespace(pk=1, profile=SimpleNamespace(checks=["totals_add_up"]))
    assert [c["rule"] for c in checks_for_run(run=run, result=invoice())] == ["totals_add_up"]
    no_checks = SimpleNamespace(pk=2, profile=SimpleNamespace(checks=[]))
    assert checks_for_run(run=no_checks, result=invoice()) == []


def test_embedded_statuses_overlay_the_text_evidence():
    from extraction.verification.embedded_route import embedded_evidence

    text = {
        "total": {"status": "not_found"},
        "invoice_number": {"status": "verified", "page": 1, "text": "RE1001"},
    }
    comparison = {
        "total": {"status": "contradicts_embedded", "embedded_value": 963.11},
        "invoice_number": {"status": "matches_embedded", "embedded_value": "RE1001"},
    }

    merged = embedded_evidence(text, comparison)

    assert merged["total"] == {
        "status": "contradicts_embedded",
        "embedded_value": 963.11,
        "text_status": "not_found",
    }
    assert merged["invoice_number"]["page"] == 1
    assert merged["invoice_number"]["text_status"] == "verified"
    assert embedded_evidence(text, None) is text
    assert embedded_evidence(None, comparison)["total"]["status"] == "contradicts_embedded"
