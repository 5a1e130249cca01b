"""A top-level field's evidence, from the run's leaves (`total`, `line_items[3].amount`, …)."""

from __future__ import annotations

# A field's status is its worst leaf's: what a reviewer (or a score) must look at first.
SEVERITY = ("contradicts_embedded", "not_found", "unverifiable", "null", "matches_embedded")
FLAGGED = frozenset({"contradicts_embedded", "not_found"})


def belongs_to(path: str, field: str) -> bool:
    return path == field or path.startswith((f"{field}[", f"{field}."))


def field_entries(evidence: dict | None, field: str) -> dict[str, dict]:
    return {p: e for p, e in (evidence or {}).items() if belongs_to(p, field)}


def field_status(evidence: dict | None, field: str) -> str:
    """`verified` when every leaf is, else the worst leaf's status; "" without evidence."""
    statuses = {entry.get("status") for entry in field_entries(evidence, field).values()}
    return next((s for s in SEVERITY if s in statuses), "verified" if statuses else "")
