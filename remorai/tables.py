"""Plain-text tables for management commands: fixed-width columns, correct with zero rows."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, rule: bool = True) -> str:
    """The header, an optional rule of dashes, then one line per row (none when rows is empty).

    Columns are as wide as their widest cell (the header counts); trailing spaces are trimmed.
    """
    widths = [len(h) for h in header]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row has {len(row)} cells, header {len(header)}: {row!r}")
        widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    head = line(header)
    lines = [head]
    if rule:
        lines.append("-" * len(head))
    lines.extend(line(row) for row in rows)
    return "\n".join(lines)
