"""Where each field of the `invoice` profile's schema lives in an embedded e-invoice: ONE place.

Three syntaxes, one table each: UN/CEFACT CII D16B (Factur-X, ZUGFeRD 2.x, XRechnung CII), the
older ZUGFeRD 1.0 CII (`CrossIndustryDocument`), and UBL 2.1 (Invoice; XRechnung UBL). Paths are
ElementPath relative to the root element, written without namespace prefixes: every step matches
its local name in any namespace (`{*}`), so the CII 100/12 and UBL namespace variants share a map.
The EN 16931 business term of each field is named beside it.

Kinds: `text` (whitespace collapsed), `date` (CII format 102 `YYYYMMDD` or ISO `YYYY-MM-DD` →
`YYYY-MM-DD`), `amount` (a decimal), `amount_in_currency` (the amount whose `currencyID` is the
invoice currency: BT-110 and BT-111 share an element name), `price` (a net price divided by its
base quantity, BT-146 / BT-149, so `quantity × unit_price = amount` holds).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    path: str  # ElementPath without prefixes, relative to the root (or to the line element)
    kind: str = "text"
    alternatives: tuple[str, ...] = ()  # tried in order when `path` finds nothing
    per: str = ""  # kind "price": path of the base quantity, relative to the same element


@dataclass(frozen=True)
class SyntaxMap:
    name: str  # "cii", "cii-zugferd1", "ubl"
    header: dict[str, Field]
    line: str  # path of one invoice line element
    line_fields: dict[str, Field]
    currency: str  # path of the invoice currency code (for `amount_in_currency`)


_CII_SETTLEMENT = "SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement"
_CII_AGREEMENT = "SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement"
_CII_SUMS = f"{_CII_SETTLEMENT}/SpecifiedTradeSettlementHeaderMonetarySummation"

CII = SyntaxMap(
    name="cii",
    header={
        "invoice_number": Field("ExchangedDocument/ID"),  # BT-1
        "issue_date": Field("ExchangedDocument/IssueDateTime/DateTimeString", "date"),  # BT-2
        "due_date": Field(  # BT-9
            f"{_CII_SETTLEMENT}/SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString", "date"
        ),
        "seller_name": Field(f"{_CII_AGREEMENT}/SellerTradeParty/Name"),  # BT-27
        "seller_vat_id": Field(  # BT-31
            f"{_CII_AGREEMENT}/SellerTradeParty/SpecifiedTaxRegistration/ID[@schemeID='VA']"
        ),
        "buyer_name": Field(f"{_CII_AGREEMENT}/BuyerTradeParty/Name"),  # BT-44
        "currency": Field(f"{_CII_SETTLEMENT}/InvoiceCurrencyCode"),  # BT-5
        "subtotal": Field(f"{_CII_SUMS}/TaxBasisTotalAmount", "amount"),  # BT-109
        "tax_total": Field(f"{_CII_SUMS}/TaxTotalAmount", "amount_in_currency"),  # BT-110
        "total": Field(f"{_CII_SUMS}/GrandTotalAmount", "amount"),  # BT-112
    },
    line="SupplyChainTradeTransaction/IncludedSupplyChainTradeLineItem",  # BG-25
    line_fields={
        "description": Field("SpecifiedTradeProduct/Name"),  # BT-153
        "quantity": Field("SpecifiedLineTradeDelivery/BilledQuantity", "amount"),  # BT-129
        "unit_price": Field(  # BT-146 / BT-149
            "SpecifiedLineTradeAgreement/NetPriceProductTradePrice/ChargeAmount",
            "price",
            per="SpecifiedLineTradeAgreement/NetPriceProductTradePrice/BasisQuantity",
        ),
        "amount": Field(  # BT-131
            "SpecifiedLineTradeSettlement/SpecifiedTradeSettlementLineMonetarySummation/"
            "LineTotalAmount",
            "amount",
        ),
    },
    currency=f"{_CII_SETTLEMENT}/InvoiceCurrencyCode",
)

_Z1_TRADE = "SpecifiedSupplyChainTradeTransaction"
_Z1_SETTLEMENT = f"{_Z1_TRADE}/ApplicableSupplyChainTradeSettlement"
_Z1_AGREEMENT = f"{_Z1_TRADE}/ApplicableSupplyChainTradeAgreement"
_Z1_SUMS = f"{_Z1_SETTLEMENT}/SpecifiedTradeSettlementMonetarySummation"

CII_ZUGFERD1 = SyntaxMap(
    name="cii-zugferd1",
    header={
        "invoice_number": Field("HeaderExchangedDocument/ID"),
        "issue_date": Field("HeaderExchangedDocument/IssueDateTime/DateTimeString", "date"),
        "due_date": Field(
            f"{_Z1_SETTLEMENT}/SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString", "date"
        ),
        "seller_name": Field(f"{_Z1_AGREEMENT}/SellerTradeParty/Name"),
        "seller_vat_id": Field(
            f"{_Z1_AGREEMENT}/SellerTradeParty/SpecifiedTaxRegistration/ID[@schemeID='VA']"
        ),
        "buyer_name": Field(f"{_Z1_AGREEMENT}/BuyerTradeParty/Name"),
        "currency": Field(f"{_Z1_SETTLEMENT}/InvoiceCurrencyCode"),
        "subtotal": Field(f"{_Z1_SUMS}/TaxBasisTotalAmount", "amount"),
        "tax_total": Field(f"{_Z1_SUMS}/TaxTotalAmount", "amount_in_currency"),
        "total": Field(f"{_Z1_SUMS}/GrandTotalAmount", "amount"),
    },
    line=f"{_Z1_TRADE}/IncludedSupplyChainTradeLineItem",
    line_fields={
        "description": Field("SpecifiedTradeProduct/Name"),
        "quantity": Field("SpecifiedSupplyChainTradeDelivery/BilledQuantity", "amount"),
        "unit_price": Field(
            "SpecifiedSupplyChainTradeAgreement/NetPriceProductTradePrice/ChargeAmount",
            "price",
            per="SpecifiedSupplyChainTradeAgreement/NetPriceProductTradePrice/BasisQuantity",
        ),
        "amount": Field(
            "SpecifiedSupplyChainTradeSettlement/SpecifiedTradeSettlementMonetarySummation/"
            "LineTotalAmount",
            "amount",
        ),
    },
    currency=f"{_Z1_SETTLEMENT}/InvoiceCurrencyCode",
)

_UBL_SELLER = "AccountingSupplierParty/Party"
_UBL_BUYER = "AccountingCustomerParty/Party"

UBL = SyntaxMap(
    name="ubl",
    header={
        "invoice_number": Field("ID"),  # BT-1
        "issue_date": Field("IssueDate", "date"),  # BT-2
        "due_date": Field(  # BT-9 (a credit note has it on the payment means)
            "DueDate", "date", alternatives=("PaymentMeans/PaymentDueDate",)
        ),
        "seller_name": Field(  # BT-27, else the trading name BT-28
            f"{_UBL_SELLER}/PartyLegalEntity/RegistrationName",
            alternatives=(f"{_UBL_SELLER}/PartyName/Name",),
        ),
        "seller_vat_id": Field(  # BT-31
            f"{_UBL_SELLER}/PartyTaxScheme[TaxScheme/ID='VAT']/CompanyID",
        ),
        "buyer_name": Field(  # BT-44
            f"{_UBL_BUYER}/PartyLegalEntity/RegistrationName",
            alternatives=(f"{_UBL_BUYER}/PartyName/Name",),
        ),
        "currency": Field("DocumentCurrencyCode"),  # BT-5
        "subtotal": Field("LegalMonetaryTotal/TaxExclusiveAmount", "amount"),  # BT-109
        "tax_total": Field("TaxTotal/TaxAmount", "amount_in_currency"),  # BT-110
        "total": Field("LegalMonetaryTotal/TaxInclusiveAmount", "amount"),  # BT-112
    },
    line="InvoiceLine",  # a CreditNote's lines are CreditNoteLine (see LINE_ALTERNATIVES)
    line_fields={
        "description": Field("Item/Name"),  # BT-153
        "quantity": Field(  # BT-129
            "InvoicedQuantity", "amount", alternatives=("CreditedQuantity",)
        ),
        "unit_price": Field("Price/PriceAmount", "price", per="Price/BaseQuantity"),  # BT-146/149
        "amount": Field("LineExtensionAmount", "amount"),  # BT-131
    },
    currency="DocumentCurrencyCode",
)

LINE_ALTERNATIVES = {"ubl": ("CreditNoteLine",)}

# factur-x's flavour of the root element → the map that reads it.
MAPS_BY_FLAVOR = {
    "factur-x": CII,
    "zugferd": CII_ZUGFERD1,
    "ubl-2.1-invoice": UBL,
    "ubl-2.1-creditnote": UBL,
}

INVOICE_FIELDS = (*CII.header, "line_items")
LINE_FIELDS = tuple(CII.line_fields)
