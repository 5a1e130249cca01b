"""Embedded e-invoices: find the invoice XML inside a PDF, read it into the `invoice` schema,
compare a model's answer with it.

Finding it is the factur-x library's job (`get_xml_from_pdf`: the PDF's embedded files, the
Factur-X / ZUGFeRD / XRechnung / UBL flavour of each XML), run under the same pypdf limits as
intake so a hostile attachment cannot inflate without bound. Reading it follows the paths of
`invoice_fields` (the one place they are listed). Nothing here raises on a bad file: detection
answers None, reading raises `EmbeddedInvoiceUnusable`, which the caller turns into a warning.
"""

from __future__ import annotations

import io
import logging
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from extraction.verification.invoice_fields import (
    LINE_ALTERNATIVES,
    MAPS_BY_FLAVOR,
    Field,
    SyntaxMap,
)

logger = logging.getLogger(__name__)

# Any XML attachment is offered to factur-x, which keeps the first one of an invoice flavour.
_ATTACHMENT_PATTERNS = ["*.xml"]
# An invoice XML is tens of kilobytes; pypdf stops inflating any stream past this.
MAX_XML_BYTES = 8 * 1024 * 1024
_DECODE_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "brotli_maximum_output_length",
    "maximum_declared_stream_length",
)
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
# A number as CII/UBL write it: plain decimal, optional sign.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class EmbeddedInvoiceUnusable(Exception):
    """The embedded XML cannot be read as an invoice (malformed, or not an invoice)."""


@dataclass(frozen=True)
class EmbeddedXml:
    filename: str
    xml: bytes
    flavor: str  # factur-x's: "factur-x", "zugferd", "ubl-2.1-invoice", "ubl-2.1-creditnote"
    standard: str  # ours: "factur-x", "zugferd", "xrechnung", "ubl"
    profile: str | None  # "minimum", "basicwl", "basic", "en16931", "extended", … or None
    guideline: str  # the XML's own guideline / customization id

    def describe(self) -> dict:
        """What Document.embedded_invoice stores (the API shows standard and profile)."""
        return {
            "standard": self.standard,
            "profile": self.profile,
            "syntax": MAPS_BY_FLAVOR[self.flavor].name,
            "filename": self.filename[:255],
            "guideline": self.guideline[:255],
        }


class _Window(io.RawIOBase):
    """The file from its %PDF- header on (offsets inside a PDF count from there), refusing any
    single read over MAX_XML_BYTES: pypdf repairs a damaged file by reading it whole, which
    intake allows only under its own bound, and detection has no need to."""

    def __init__(self, raw, *, start: int):
        super().__init__()
        self._raw, self._start = raw, start
        self._size = raw.seek(0, os.SEEK_END) - start
        raw.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell() - self._start

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self._size}[whence]
        target = max(0, base + offset)
        self._raw.seek(self._start + target)
        return target

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._size - self.tell())
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        if wanted > MAX_XML_BYTES:
            raise OSError(f"refused to read {wanted} bytes at once")
        return self._raw.read(wanted)


def embedded_xml_find(path: str | Path, *, start: int = 0) -> EmbeddedXml | None:
    """The invoice XML embedded in the PDF at `path` (its header at offset `start`), or None
    (none there, or unreadable). Memory stays bounded whatever the file's size."""
    import facturx
    from pypdf import apply_configuration

    try:
        with (
            open(path, "rb") as raw,
            _Window(raw, start=start) as stream,
            apply_configuration(**{name: MAX_XML_BYTES for name in _DECODE_LIMITS}),
        ):
            filename, xml = facturx.get_xml_from_pdf(
                stream, check_xsd=False, filenames=list(_ATTACHMENT_PATTERNS)
            )
    except Exception as exc:  # noqa: BLE001 - a file intake accepted may still trip factur-x
        logger.info("no embedded invoice read: %s: %s", type(exc).__name__, str(exc)[:200])
        return None
    if not filename or not xml:
        return None
    try:
        root = etree.fromstring(xml, _SAFE_PARSER)
        flavor = facturx.get_flavor(root)
    except Exception as exc:  # noqa: BLE001 - factur-x accepted it; a second look may not
        logger.info("embedded XML %r unreadable: %s", filename, type(exc).__name__)
        return None
    if flavor not in MAPS_BY_FLAVOR:  # e.g. an Order-X purchase order: not an invoice
        return None
    guideline = _guideline(root, flavor)
    try:
        profile = facturx.get_level(root, flavor)
    except Exception:  # noqa: BLE001 - an unknown guideline still is an invoice
        # ZUGFeRD 1.0 ids end with the level too ("…:invoice:1p0:basic").
        last = guideline.split("#", 1)[0].rsplit(":", 1)[-1].lower()
        profile = last if re.fullmatch(r"[a-z][a-z0-9_.-]{0,31}", last) else None
    return EmbeddedXml(
        filename=str(filename),
        xml=bytes(xml),
        flavor=flavor,
        standard=_standard(flavor, guideline, str(filename)),
        profile=profile,
        guideline=guideline,
    )


def embedded_invoice_detect(path: str | Path, *, start: int = 0) -> dict | None:
    """Document.embedded_invoice for the PDF at `path`: {standard, profile, …} or None."""
    found = embedded_xml_find(path, start=start)
    return None if found is None else found.describe()


def _guideline(root, flavor: str) -> str:
    if flavor.startswith("ubl"):
        path = "CustomizationID"
    elif flavor == "zugferd":
        path = "SpecifiedExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID"
    else:
        path = "ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID"
    return _text(_first(root, path)) or ""


def _standard(flavor: str, guideline: str, filename: str) -> str:
    lowered = guideline.lower()
    if "xrechnung" in lowered:
        return "xrechnung"
    if flavor.startswith("ubl"):
        return "ubl"
    if flavor == "zugferd" or "zugferd" in lowered or filename.lower().startswith("zugferd"):
        return "zugferd"
    return "factur-x"


def embedded_invoice_read(path: str | Path) -> dict:
    """The invoice result from the XML embedded in the PDF at `path` (EmbeddedInvoiceUnusable
    when there is none any more, or it cannot be read as an invoice)."""
    found = embedded_xml_find(path)
    if found is None:
        raise EmbeddedInvoiceUnusable("no invoice XML could be read from the PDF")
    return invoice_from_xml(found.xml, found.flavor)


# --- reading the XML into the invoice schema --------------------------------------------------


def invoice_from_xml(xml: bytes, flavor: str | None = None) -> dict:
    """The `invoice` profile's result read from an embedded XML (every schema field present).

    Raises EmbeddedInvoiceUnusable when the XML is malformed, of no invoice flavour, or lacks
    what makes an invoice (its number and its totals), or holds a number that is not one.
    """
    try:
        root = etree.fromstring(xml, _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise EmbeddedInvoiceUnusable(f"the embedded XML is malformed ({exc})") from exc
    if flavor is None:
        import facturx

        try:
            flavor = facturx.get_flavor(root)
        except Exception as exc:  # noqa: BLE001
            raise EmbeddedInvoiceUnusable("the embedded XML is not an e-invoice") from exc
    syntax = MAPS_BY_FLAVOR.get(flavor)
    if syntax is None:
        raise EmbeddedInvoiceUnusable(f"the embedded XML is a {flavor} document, not an invoice")
    currency = _text(_first(root, syntax.currency))
    result = {name: _value(root, spec, currency) for name, spec in syntax.header.items()}
    result["line_items"] = [
        {name: _value(line, spec, currency) for name, spec in syntax.line_fields.items()}
        for line in _lines(root, syntax)
    ]
    missing = [name for name in ("invoice_number", "total") if result[name] is None]
    if missing:
        raise EmbeddedInvoiceUnusable(
            "the embedded XML is not a usable invoice (no " + " and no ".join(missing) + ")"
        )
    return result


def _lines(root, syntax: SyntaxMap) -> list:
    for path in (syntax.line, *LINE_ALTERNATIVES.get(syntax.name, ())):
        found = _all(root, path)
        if found:
            return found
    return []


def _value(node, spec: Field, currency: str | None):
    for path in (spec.path, *spec.alternatives):
        elements = _all(node, path)
        if not elements:
            continue
        if spec.kind == "amount_in_currency":
            return _number(_in_currency(elements, currency), path)
        element = elements[0]
        if spec.kind == "text":
            return _text(element)
        if spec.kind == "date":
            return _date(_text(element), path)
        if spec.kind == "amount":
            return _number(element, path)
        if spec.kind == "price":
            price = _decimal(element, path)
            per = _decimal(_first(node, spec.per), spec.per) if spec.per else None
            if price is not None and per:
                price = price / per
            return _float(price)
        raise ValueError(f"unknown field kind {spec.kind!r}")
    return None


def _in_currency(elements: list, currency: str | None):
    for element in elements:
        if element.get("currencyID") in (None, currency):
            return element
    return elements[0]


def _number(element, path: str):
    return _float(_decimal(element, path))


def _decimal(element, path: str) -> Decimal | None:
    text = _text(element)
    if text is None:
        return None
    if not _NUMBER.match(text):
        raise EmbeddedInvoiceUnusable(f"{_short(path)} is not a number: {text[:40]!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern rules it out
        raise EmbeddedInvoiceUnusable(f"{_short(path)} is not a number") from exc


def _float(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(round(value, 6))


def _date(text: str | None, path: str) -> str | None:
    if text is None:
        return None
    if re.fullmatch(r"\d{8}", text):  # CII format 102
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None  # other CII formats (610: a month, 616: a week) are not a day
    return text


def _text(element) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1].split("[", 1)[0]


_STEP = re.compile(r"([A-Za-z_][\w.-]*)((?:\[[^\]]*\])*)")
_PREDICATE = re.compile(r"\[(@?)([\w/.-]+)='([^']*)'\]")
_XPATHS: dict[str, etree.XPath] = {}


def _xpath(path: str) -> etree.XPath:
    """A prefix-free path (`A/B[@x='v']/C[D/E='v']`) as an XPath matching local names."""
    compiled = _XPATHS.get(path)
    if compiled is None:
        steps = []
        for step in _split(path):
            match = _STEP.fullmatch(step)
            if match is None:
                raise ValueError(f"bad path step {step!r} in {path!r}")
            name, predicates = match.groups()
            xpath_step = f"*[local-name()='{name}']"
            for attribute, target, value in _PREDICATE.findall(predicates):
                if attribute:
                    xpath_step += f"[@{target}='{value}']"
                else:
                    inner = "/".join(f"*[local-name()='{part}']" for part in target.split("/"))
                    xpath_step += f"[normalize-space({inner})='{value}']"
            steps.append(xpath_step)
        compiled = _XPATHS[path] = etree.XPath("/".join(steps))
    return compiled


def _split(path: str) -> list[str]:
    steps, depth, current = [], 0, ""
    for char in path:
        if char == "/" and depth == 0:
            steps.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current += char
    steps.append(current)
    return steps


def _all(node, path: str) -> list:
    return _xpath(path)(node)


def _first(node, path: str):
    found = _all(node, path)
    return found[0] if found else None
