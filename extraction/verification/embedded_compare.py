"""A model's invoice answer compared, field by field, with the document's embedded XML.

Used when a run on a document carrying an e-invoice asks for `"source": "model"`: each leaf of
the answer (and each leaf the XML has that the answer lacks) gets `matches_embedded` or
`contradicts_embedded`, keyed by JSON path (`total`, `line_items[1].amount`) like the evidence.
"""

from __future__ import annotations

import math
from typing import Any

MATCHES = "matches_embedded"
CONTRADICTS = "contradicts_embedded"

# Numbers are equal when they differ by less than half a cent (963.12 vs 963.11 is not equal).
NUMBER_TOLERANCE = 0.005


def embedded_comparison(result: Any, embedded: dict) -> dict[str, dict]:
    """{json_path: {"status": matches_embedded|contradicts_embedded, "embedded_value": v}}."""
    model_leaves = dict(_leaves(result if isinstance(result, dict) else {}))
    xml_leaves = dict(_leaves(embedded))
    comparison = {}
    for path in [*model_leaves, *(p for p in xml_leaves if p not in model_leaves)]:
        expected = xml_leaves.get(path)
        status = MATCHES if _same(model_leaves.get(path), expected) else CONTRADICTS
        comparison[path] = {"status": status, "embedded_value": expected}
    return comparison


def _leaves(value: Any, prefix: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _same(model: Any, expected: Any) -> bool:
    if model is None or expected is None:
        return model is None and expected is None
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        number = _number(model)
        return number is not None and abs(number - float(expected)) < NUMBER_TOLERANCE
    return _words(model) == _words(expected) or _compact(model) == _compact(expected)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    try:
        number = float(str(value).replace(" ", "").replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _words(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _compact(value: Any) -> str:
    # Identifiers (VAT ids, invoice numbers) printed with spaces: "DE 123 456 789".
    return "".join(str(value).split()).casefold()
