"""The `invoice` profile's checks: arithmetic, dates, currency code, seller VAT id."""

from __future__ import annotations

from extraction.verification.checks import (
    CENT,
    Outcome,
    check,
    fmt,
    iso_date,
    number,
    skipped,
    within,
)

INVOICE_CHECKS = [
    "totals_add_up",
    "lines_sum_to_subtotal",
    "line_amounts",
    "due_date_not_before_issue_date",
    "currency_iso4217",
    "seller_vat_id_valid",
]


@check("totals_add_up", "subtotal + tax_total = total (within a cent)")
def totals_add_up(data: dict) -> Outcome:
    subtotal, tax, total = (number(data.get(k)) for k in ("subtotal", "tax_total", "total"))
    nulls = [
        k
        for k, v in zip(("subtotal", "tax_total", "total"), (subtotal, tax, total), strict=True)
        if v is None
    ]
    if nulls:
        return skipped(*nulls)
    ok = within(subtotal + tax, total, CENT)
    return Outcome(ok, f"{fmt(subtotal)} + {fmt(tax)} = {fmt(subtotal + tax)}, total {fmt(total)}")


@check("lines_sum_to_subtotal", "sum(line_items.amount) = subtotal (within a cent per two lines)")
def lines_sum_to_subtotal(data: dict) -> Outcome:
    subtotal = number(data.get("subtotal"))
    lines = data.get("line_items") if isinstance(data.get("line_items"), list) else []
    amounts = [number(line.get("amount")) if isinstance(line, dict) else None for line in lines]
    if subtotal is None:
        return skipped("subtotal")
    if not amounts:
        return Outcome(None, "skipped: no line_items")
    if any(amount is None for amount in amounts):
        return skipped("a line_items amount")
    total = sum(amounts)
    tolerance = max(CENT, CENT / 2 * len(amounts))
    ok = within(total, subtotal, tolerance)
    return Outcome(ok, f"{len(amounts)} lines sum to {fmt(total)}, subtotal {fmt(subtotal)}")


@check("line_amounts", "quantity × unit_price = amount on each line (within a cent)")
def line_amounts(data: dict) -> Outcome:
    lines = data.get("line_items") if isinstance(data.get("line_items"), list) else []
    checked, wrong = 0, []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            continue
        quantity, price, amount = (
            number(line.get(k)) for k in ("quantity", "unit_price", "amount")
        )
        if quantity is None or price is None or amount is None:
            continue
        checked += 1
        # A unit price printed to the cent may hide more decimals: allow that rounding too.
        tolerance = CENT + abs(amount) * 1e-4
        if not within(quantity * price, amount, tolerance):
            wrong.append(
                f"line_items[{index}]: {quantity:g} × {price:g} = "
                f"{fmt(quantity * price)}, amount {fmt(amount)}"
            )
    if checked == 0:
        return Outcome(None, "skipped: no line with quantity, unit_price and amount")
    if wrong:
        return Outcome(
            False, "; ".join(wrong[:5]) + (f" (+{len(wrong) - 5} more)" if len(wrong) > 5 else "")
        )
    return Outcome(True, f"{checked} of {len(lines)} lines checked")


@check("due_date_not_before_issue_date", "due_date ≥ issue_date")
def due_date_not_before_issue_date(data: dict) -> Outcome:
    issue, due = data.get("issue_date"), data.get("due_date")
    nulls = [k for k, v in (("issue_date", issue), ("due_date", due)) if v is None]
    if nulls:
        return skipped(*nulls)
    issue_day, due_day = iso_date(issue), iso_date(due)
    if issue_day is None or due_day is None:
        bad = "issue_date" if issue_day is None else "due_date"
        return Outcome(False, f"{bad} is not a YYYY-MM-DD date")
    return Outcome(due_day >= issue_day, f"issued {issue_day}, due {due_day}")


@check("currency_iso4217", "currency is an ISO 4217 code")
def currency_iso4217(data: dict) -> Outcome:
    currency = data.get("currency")
    if currency is None:
        return skipped("currency")
    from iso4217 import Currency

    code = str(currency).strip()
    try:
        Currency(code)
    except ValueError:
        return Outcome(False, f"{code[:20]!r} is not an ISO 4217 currency code")
    return Outcome(True, f"{code} is ISO 4217")


@check("seller_vat_id_valid", "seller_vat_id is valid for its country prefix (python-stdnum)")
def seller_vat_id_valid(data: dict) -> Outcome:
    vat_id = data.get("seller_vat_id")
    if vat_id is None:
        return skipped("seller_vat_id")
    from stdnum import get_cc_module
    from stdnum.eu import vat as eu_vat
    from stdnum.exceptions import ValidationError

    compact = "".join(str(vat_id).split()).upper().replace("-", "").replace(".", "")
    prefix = compact[:2]
    if not prefix.isalpha() or len(prefix) != 2:
        return Outcome(None, "skipped: no country prefix")
    # EU numbers (Greece's prefix is EL, Northern Ireland's XI) go through stdnum's EU module.
    if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
        module = eu_vat
    else:
        module = get_cc_module(prefix.lower(), "vat")
        if module is None:
            return Outcome(None, f"skipped: no VAT number rules for {prefix}")
    try:
        module.validate(compact)
    except ValidationError as exc:
        return Outcome(False, f"{compact[:32]}: {exc.message}")
    return Outcome(True, f"{compact} is a valid {prefix} VAT number")
