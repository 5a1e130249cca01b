"""Deterministic schema filling from a document's text.

"Label: value" lines in the text are matched to property names (snake_case, camelCase, titles and
common abbreviations: "Invoice No" == invoice_number), values are coerced to the schema's type,
nothing matching gives null where the schema allows it, else a type-correct empty value.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema

from . import guess
from .store import PAGE_BREAK
from .values import coerce, empty_value, parse_date

__all__ = ["fill_schema", "label_pairs", "normalise_schema", "parse_date", "violate"]

SYNONYMS = {
    "no": "number",
    "nr": "number",
    "num": "number",
    "n": "number",
    "n°": "number",
    "nº": "number",
    "#": "number",
    "id": "id",
    "amt": "amount",
    "qty": "quantity",
    "dt": "date",
    "inv": "invoice",
    "facture": "invoice",
    "montant": "amount",
    "numero": "number",
    "numéro": "number",
    "nummer": "number",
    "rechnung": "invoice",
    "factuur": "invoice",
    "fattura": "invoice",
    "factura": "invoice",
}
LABEL_LINE = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s*(.*?)\s*$")
GLUED_LINE = re.compile(r"^\s*(\S[^:]*?[0-9])([A-Z][^\d:]{1,40}?)\s*:\s*$")
NEXT_LABEL = re.compile(r"\s+(?:-\s+)?([A-Z][A-Z0-9°'/.]*(?: [A-Z0-9°'/.]+){0,4})\s+:\s+")


def words(name: str) -> tuple[str, ...]:
    """'invoiceNumber', 'invoice_number', 'Invoice No.' -> ('invoice', 'number')."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    raw = re.findall(r"n°|nº|#|[^\W_]+", name.lower())
    return tuple(SYNONYMS.get(w, w) for w in raw)


def label_pairs(text: str) -> list[tuple[tuple[str, ...], str]]:
    """Every "Label: value" in the text, in order.

    Also: an empty value takes the next line (unless that is a label itself); "valueLabel:"
    glued by the text layer ("19 april 2014Factuurdatum:"); several upper-case labels on one line
    ("IBAN : FR76 … - BIC : BREDFRPP").
    """
    lines = [line.strip() for line in text.splitlines()]
    pairs: list[tuple[tuple[str, ...], str]] = []
    for index, line in enumerate(lines):
        glued = GLUED_LINE.match(line)
        if glued:
            pairs.append((words(glued.group(2)), glued.group(1).strip()))
            continue
        match = LABEL_LINE.match(line)
        if not match:
            continue
        label, value = match.group(1), match.group(2)
        if "http" in label.lower():
            continue
        if not value:
            following = [nxt for nxt in lines[index + 1 : index + 3] if nxt]
            value = following[0] if following and not following[0].endswith(":") else ""
        segments = [(label, value)]
        while True:
            head_label, head_value = segments[-1]
            more = NEXT_LABEL.search(head_value)
            if not more:
                break
            segments[-1] = (head_label, head_value[: more.start()])
            segments.append((more.group(1), head_value[more.end() :]))
        for seg_label, seg_value in segments:
            label_words = words(seg_label)
            seg_value = seg_value.strip(" -–")
            if label_words and seg_value:
                pairs.append((label_words, seg_value))
    return pairs


AMOUNT_AT_END = re.compile(r"([-−]?[$€£¥]?\s?\d[\d\s.,']*\d|\d)\s*(?:[$€£¥%]|[A-Z]{3})?\s*$")


def amount_lines(text: str) -> list[tuple[tuple[str, ...], str]]:
    """(words before the amount, amount) for lines ending in a number, e.g. "Subtotal 573.00"."""
    found = []
    for line in text.splitlines():
        match = AMOUNT_AT_END.search(line.strip())
        if match and match.start() > 0:
            head = words(line.strip()[: match.start()])
            if head:
                found.append((head, match.group(1)))
    return found


MAX_DEPTH = 12


class Filler:
    def __init__(self, text: str, root_schema: dict, *, nested: bool = False):
        self.text = text
        self.pairs = label_pairs(text)
        self.amounts = amount_lines(text)
        self.root = root_schema
        self.nested = nested  # inside an array item: no further item groups (recursive schemas)

    # --- schema helpers ---------------------------------------------------------------------

    def resolve(self, schema: Any) -> dict:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            ref = schema["$ref"]
            target: Any = self.root
            if ref.startswith("#"):
                for part in [p for p in ref[1:].split("/") if p]:
                    target = target.get(part, {}) if isinstance(target, dict) else {}
            else:
                target = {}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema if isinstance(schema, dict) else {}

    def types(self, schema: dict) -> list[str]:
        schema = self.resolve(schema)
        kind = schema.get("type")
        if isinstance(kind, list):
            result = [str(k).lower() for k in kind]
        elif kind:
            result = [str(kind).lower()]
        else:
            result = []
            for option in schema.get("anyOf") or schema.get("oneOf") or []:
                result += self.types(option)
            if not result and "properties" in schema:
                result = ["object"]
            if not result and "items" in schema:
                result = ["array"]
            if not result and "enum" in schema:
                result = ["string"]
        if schema.get("nullable"):
            result.append("null")
        return result

    def allows_null(self, schema: dict) -> bool:
        schema = self.resolve(schema)
        if "enum" in schema and None in schema["enum"]:
            return True
        return "null" in self.types(schema)

    def main_branch(self, schema: dict) -> dict:
        schema = self.resolve(schema)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            non_null = [o for o in options if self.types(o) != ["null"]]
            branch = self.resolve(non_null[0] if non_null else options[0])
            return {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **branch}
        return schema

    # --- matching ---------------------------------------------------------------------------

    def lookup(self, name_candidates: list[tuple[str, ...]], *, exact_only=False) -> str | None:
        for wanted in name_candidates:
            if not wanted:
                continue
            exact = [value for label, value in self.pairs if label == wanted]
            if exact:
                return exact[0]
        if exact_only:
            return None
        for wanted in name_candidates:
            if not wanted:
                continue
            contained = [
                (len(label), value)
                for label, value in self.pairs
                if set(wanted) <= set(label) and len(label) <= len(wanted) + 3
            ]
            if contained:
                return min(contained, key=lambda item: item[0])[1]
        return None

    def repeated_items(self, item_schema: dict) -> list:
        """Objects from repeated label groups ("Description: … Notes: … Description: …"): a
        label seen again starts the next item."""
        if self.nested:
            return []
        item_schema = self.main_branch(item_schema)
        names = {words(name): name for name in (item_schema.get("properties") or {}) if words(name)}
        if not names:
            return []
        groups: list[tuple[int, list[tuple[tuple[str, ...], str]]]] = []
        current: list[tuple[tuple[str, ...], str]] = []
        for page, (label, value) in self.paged_pairs():
            if label not in names:
                continue
            if any(seen == label for seen, _ in current):
                current = []
            if not current:
                groups.append((page, current))
            current.append((label, value))
        page_field = self.page_field(item_schema)
        items = []
        for page, group in groups:
            text = "\n".join(f"{' '.join(label)}: {value}" for label, value in group)
            item = Filler(text, self.root, nested=True).fill(item_schema, ())
            if page_field and isinstance(item, dict) and not item.get(page_field):
                item[page_field] = page  # the page of the file the item was read on
            items.append(item)
        return items

    def paged_pairs(self):
        """(page of the file, pair) for the label pairs of each page (form-feed separated)."""
        if PAGE_BREAK not in self.text:
            return [(1, pair) for pair in self.pairs]
        return [
            (number, pair)
            for number, page_text in enumerate(self.text.split(PAGE_BREAK), start=1)
            for pair in label_pairs(page_text)
        ]

    def page_field(self, item_schema: dict) -> str | None:
        """An integer item property that asks for the item's page ("page", "source_page")."""
        for name, prop in (item_schema.get("properties") or {}).items():
            if words(name)[-1:] == ("page",) and "integer" in self.types(prop):
                return name
        return None

    def lookup_amount(self, name_candidates: list[tuple[str, ...]]) -> str | None:
        """A number at the end of a line that starts with the name ("Total TTC 56,02 €")."""
        for wanted in name_candidates:
            for line_words, amount in self.amounts:
                if wanted and line_words[: len(wanted)] == wanted:
                    return amount
        return None

    # --- filling ----------------------------------------------------------------------------

    def fill(self, schema: Any, path: tuple[str, ...] = ()) -> Any:
        nullable = self.allows_null(schema)
        schema = self.main_branch(schema)
        if "const" in schema:
            return schema["const"]
        kinds = [k for k in self.types(schema) if k != "null"] or ["string"]
        kind = kinds[0]
        if len(path) > MAX_DEPTH:  # a recursive schema: stop where the schema allows it
            return None if nullable else empty_value(kind, schema)
        if kind == "object":
            return self.fill_object(schema, path)
        if kind == "array":
            item_schema = schema.get("items") or {}
            minimum = int(schema.get("minItems") or schema.get("min_items") or 0)
            maximum = schema.get("maxItems") or schema.get("max_items")
            items = self.repeated_items(item_schema) or self.dated_items(item_schema, path)
            while len(items) < minimum:
                items.append(self.fill(item_schema, path))
            return items[: int(maximum)] if maximum is not None else items
        value = self.scalar(schema, path, kinds) if path else None
        if value is None:
            return None if nullable else empty_value(kind, schema)
        return value

    def scalar(self, schema: dict, path: tuple[str, ...], kinds: list[str]) -> Any:
        """A labelled value first; else what the field's role finds (guess.py); else a label
        that contains the field's words, or a number at the end of a line starting with them."""
        candidates = self.candidates(schema, path)
        role = None if self.nested else guess.role(words(path[-1]), schema, kinds)
        as_date = role in guess.DATE_ROLES and "string" in kinds

        def typed(raw):
            if raw is None:
                return None
            return parse_date(raw) if as_date else coerce(raw, kinds, schema)

        value = typed(self.lookup(candidates, exact_only=True))
        if value is None and role:
            value = guess.find(role, self.text, words(path[-1]), kinds)
        if value is None:
            value = typed(self.lookup(candidates))
        if value is None and role not in guess.AMOUNT_ROLES and kinds[0] in ("number", "integer"):
            value = typed(self.lookup_amount(candidates))
        return value

    def dated_items(self, item_schema: dict, path: tuple[str, ...]) -> list:
        """For a list of dated things (an item with a date field): the dates the text gives,
        each with what its line says."""
        item_schema = self.main_branch(item_schema)
        properties = item_schema.get("properties") or {}
        date_name = next((n for n in properties if "date" in words(n)), None)
        if self.nested or not path or date_name is None:
            return []
        other = next((n for n in properties if n != date_name), None)
        items = []
        for iso, context in guess.dated_lines(self.text):
            text = f"{date_name}: {iso}" + (f"\n{other}: {context}" if other and context else "")
            items.append(Filler(text, self.root, nested=True).fill(item_schema, ()))
        return items

    def fill_object(self, schema: dict, path: tuple[str, ...]) -> dict:
        result = {}
        for name, prop in (schema.get("properties") or {}).items():
            result[name] = self.fill(prop, (*path, name))
        return result

    def candidates(self, schema: dict, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        own = words(path[-1])
        found = [tuple(w for p in path for w in words(p)), own]
        title = schema.get("title")
        if isinstance(title, str):
            found.append(words(title))
        return found


def fill_schema(schema: dict, text: str) -> Any:
    """A value valid against `schema`, filled from "Label: value" lines of `text`."""
    filler = Filler(text, schema)
    value = filler.fill(schema)
    if not is_valid(value, schema):
        # A constraint the filler does not model (pattern, minLength, …): keep only the shape.
        value = Filler("", schema).fill(schema)
    return value


def is_valid(value: Any, schema: dict) -> bool:
    try:
        jsonschema.validate(value, normalise_schema(schema))
    except jsonschema.ValidationError:
        return False
    except jsonschema.SchemaError:
        return True
    return True


def normalise_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-style schema (type "OBJECT", nullable) as JSON Schema."""
    if isinstance(schema, list):
        return [normalise_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: normalise_schema(v) for k, v in schema.items() if k != "nullable"}
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = kind.lower()
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    for key in ("propertyOrdering", "property_ordering"):
        out.pop(key, None)
    return out


def violate(value: Any, schema: dict) -> Any:
    """A JSON value that breaks `schema` on purpose (the schema-violation fault)."""
    schema = normalise_schema(schema)
    if isinstance(value, dict) and value:
        broken = copy.deepcopy(value)
        first = next(iter(broken))
        for wrong in ("not-a-number", 12345, [1, 2], {"x": 1}, True):
            broken[first] = wrong
            if not is_valid(broken, schema):
                return broken
        required = schema.get("required") or []
        if required:
            broken = copy.deepcopy(value)
            broken.pop(required[0], None)
            if not is_valid(broken, schema):
                return broken
    for wrong in (["schema", "violation"], "schema violation", 0, None):
        if not is_valid(wrong, schema):
            return wrong
    return value


def text_answer(text: str, pages: int, prompt: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if pages:
        return (
            f"[simulated by remorai] The document has {pages} page(s). It begins: {first[:120]!r}."
        )
    return f"[simulated by remorai] You said: {prompt[:120]!r}."


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
