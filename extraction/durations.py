"""Human durations on the command line: 7d, 12h, 30m, 2w, 90s."""

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'7d' -> timedelta(days=7). Raises ValueError with a readable message otherwise."""
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number and s, m, h, d or w, e.g. 7d")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
