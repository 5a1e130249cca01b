"""Printed numbers, dates and marks are read for every value they can mean, and no other."""

from datetime import date
from decimal import Decimal

import pytest

from extraction.verification.normalise import currency_marks, parse_printed_number
from extraction.verification.pageindex import PageIndex, date_order_votes


@pytest.mark.parametrize(
    ("printed", "values"),
    [
        ("1,234.56", {"1234.56"}),
        ("1.234,56", {"1234.56"}),
        ("1'234.56", {"1234.56"}),
        ("1’234.56", {"1234.56"}),
        ("1939", {"1939"}),
        ("1939.00", {"1939"}),
        ("4,11", {"4.11"}),
        ("1,234", {"1234", "1.234"}),
        ("1.234.567,89", {"1234567.89"}),
        ("12.5", {"12.5"}),
        ("20.10.2015", set()),
        ("1,23,4", set()),
    ],
)
def test_printed_number_means_exactly_these_values(printed, values):
    assert parse_printed_number(printed) == {Decimal(v) for v in values}


@pytest.mark.parametrize(
    "text",
    [
        "Total 1 234,56 €",
        "Total: EUR 1.234,56",
        "Total 1,234.56 USD",
        "Total €1,234.56",
        "Total EUR1234.56",
        "Summe 1'234.56 CHF",
        "Total: 1234.560",
    ],
)
def test_amount_found_in_any_common_printed_form(text):
    assert PageIndex(text).numbers.get(Decimal("1234.56"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Rechnung RE1001", "1001"),  # part of an identifier
        ("INV-2023-0042", "2023"),
        ("VAT DE327606228", "327606228"),
        ("Total 963,12", "963.1"),  # another amount
        ("Total 963,12", "63.12"),
    ],
)
def test_number_inside_an_identifier_or_another_number_is_not_found(text, value):
    assert not PageIndex(text).numbers.get(Decimal(value))


@pytest.mark.parametrize(
    "text",
    [
        "Date: 31/12/2017",
        "Datum: 31.12.2017",
        "Date 31-12-17",
        "Dated 31 Dec 2017",
        "Dated 31 December 2017",
        "Le 31 décembre 2017",
        "Am 31. Dezember 2017",
        "December 31, 2017",
        "Invoice Date: December 31 , 2017",
        "Date: 2017-12-31",
    ],
)
def test_date_found_in_common_printed_forms(text):
    assert PageIndex(text).dates.get(date(2017, 12, 31))


def test_ambiguous_numeric_date_needs_the_documents_other_dates():
    text = "Issued 03/04/2017"
    assert PageIndex(text).dates == {}
    assert date(2017, 4, 3) in PageIndex(text, date_order="dmy").dates
    assert date(2017, 3, 4) in PageIndex(text, date_order="mdy").dates
    assert date(2017, 4, 3) not in PageIndex(text, date_order="mdy").dates


def test_document_dates_vote_for_an_order():
    assert date_order_votes("Issued 03/04/2017, due 18/04/2017") == (1, 0)
    assert date_order_votes("Issued 03/04/2017, due 04/18/2017") == (0, 1)
    assert date_order_votes("Issued 03/04/2017") == (0, 0)


def test_strings_match_modulo_whitespace_case_and_line_end_hyphens_only_as_whole_words():
    index = PageIndex("Rechnung RE1001\r\nDE 327 606 228\r\nThuis-\r\nkopieheffing Beispiel\xa0AG")
    assert index.find_string("re1001", limit=3)
    assert index.find_string("de327606228", limit=3)
    assert index.find_string("thuiskopieheffing", limit=3)
    assert index.find_string("beispielag", limit=3)
    assert not index.find_string("re100", limit=3)
    assert not index.find_string("e1001", limit=3)
    assert not index.find_string("re1010", limit=3)


def test_currency_codes_are_also_their_signs():
    assert "€" in currency_marks("EUR")
    assert {"₹", "Rs"} <= set(currency_marks("INR"))
    index = PageIndex("Total Rs.319.00")
    assert index.find_mark("Rs", limit=3)
    assert not PageIndex("Mrs Smith").find_mark("Rs", limit=3)
