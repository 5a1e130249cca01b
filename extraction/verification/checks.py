"""Named checks on a run's result: a small registry that profiles pick rules from.

A profile lists rule names (`ExtractionProfile.checks`); `checks_run` applies them to a result and
answers `[{rule, ok, detail}]`. A rule whose inputs are null is skipped (`ok: null`), not failed.
Other profiles add their own rules with `@check("name")` in a module imported here. A rule never
breaks a run: one that raises is reported with `ok: null` and the error in `detail`.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# Printed amounts are rounded to the cent; a sum of n rounded amounts may be off by n half-cents.
CENT = 0.01


@dataclass(frozen=True)
class Outcome:
    ok: bool | None  # None: skipped (an input is null) — neither passed nor failed
    detail: str


Rule = Callable[[dict], Outcome]
REGISTRY: dict[str, tuple[Rule, str]] = {}


def check(name: str, description: str) -> Callable[[Rule], Rule]:
    """Register `rule` under `name` (the name profiles list)."""

    def register(rule: Rule) -> Rule:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = (rule, description)
        return rule

    return register


def check_names() -> list[str]:
    return sorted(REGISTRY)


def unknown_checks(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in REGISTRY]


def checks_run(names: Iterable[str], result: Any) -> list[dict]:
    """Apply the named rules to `result`: [{"rule", "ok" (true/false/null), "detail"}]."""
    data = result if isinstance(result, dict) else {}
    outcomes = []
    for name in names:
        entry = REGISTRY.get(name)
        if entry is None:
            outcome = Outcome(None, "skipped: no such check")
        else:
            try:
                outcome = entry[0](data)
            except Exception as exc:  # noqa: BLE001 - a check never breaks a run
                logger.warning("check %s raised %s", name, type(exc).__name__, exc_info=True)
                outcome = Outcome(None, f"skipped: the check raised {type(exc).__name__}")
        outcomes.append({"rule": name, "ok": outcome.ok, "detail": outcome.detail})
    return outcomes


def checks_for_run(*, run, result: Any) -> list[dict]:
    """The checks the run's profile lists, applied to `result` (never raises)."""
    try:
        names = list(getattr(run.profile, "checks", None) or [])
    except Exception:  # noqa: BLE001 - a run without its profile has no checks
        logger.warning("checks: the profile of run %s could not be read", run.pk, exc_info=True)
        return []
    return checks_run(names, result)


def checks_failed(checks: Iterable[dict] | None) -> bool:
    """True when any check failed (skipped ones do not count)."""
    return any(item.get("ok") is False for item in checks or ())


# --- helpers ----------------------------------------------------------------------------------


def skipped(*names: str) -> Outcome:
    return Outcome(
        None, "skipped: " + ", ".join(names) + (" is" if len(names) == 1 else " are") + " null"
    )


def number(value: Any) -> float | None:
    """A finite number from a JSON value (numbers only: strings are not guessed at)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def fmt(value: float) -> str:
    return f"{value:.2f}" if abs(value - round(value, 2)) < 1e-9 else f"{value:g}"


def within(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance + 1e-9


def iso_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


# Importing the rule modules registers their rules.
from extraction.verification import invoice_checks  # noqa: E402, F401
