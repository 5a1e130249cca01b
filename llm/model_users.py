"""Who uses which models, so llm can flag retiring ones without knowing the apps that use them.

An app registers a callable in its AppConfig.ready() (extraction registers its profiles); each
returns (label, admin URL or "", [model names]) per user. Usage sources (runs and cost per model
over a period) feed the model admin the same way. llm_check and the model admin list every
user whose models are retired or retire within RETIRING_SOON_DAYS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from llm import catalog
from llm.catalog import RETIRING_SOON_DAYS, all_specs

ModelUser = tuple[str, str, list[str]]
#: since → {model name: (runs, cost in USD)}
UsageSource = Callable[[datetime], dict[str, tuple[int, Decimal]]]
_sources: list[Callable[[], Iterable[ModelUser]]] = []
_usage_sources: list[UsageSource] = []


def register(source: Callable[[], Iterable[ModelUser]]) -> None:
    if source not in _sources:
        _sources.append(source)


def register_usage(source: UsageSource) -> None:
    if source not in _usage_sources:
        _usage_sources.append(source)


def usage_since(since: datetime) -> dict[str, tuple[int, Decimal]]:
    """Runs and cost per model since `since`, summed over every registered usage source."""
    totals: dict[str, tuple[int, Decimal]] = {}
    for source in _usage_sources:
        for name, (runs, cost) in source(since).items():
            old_runs, old_cost = totals.get(name, (0, Decimal(0)))
            totals[name] = (old_runs + runs, old_cost + (cost or Decimal(0)))
    return totals


@dataclass(frozen=True)
class RetirementFlag:
    user: str  # e.g. "profile invoice"
    url: str
    model: str
    retires_on: date
    retired: bool
    replacement: str

    def __str__(self) -> str:
        verb = "retired on" if self.retired else "retires on"
        instead = f" (replacement: {self.replacement})" if self.replacement else ""
        return f"{self.user} uses {self.model}, which {verb} {self.retires_on}{instead}"


def retiring_models(names, *, within_days: int = RETIRING_SOON_DAYS) -> list[str]:
    """A note per model of `names` that is retired or retires within `within_days`."""
    on = catalog.today()
    specs = {s.name: s for s in all_specs()}
    notes = []
    for name in dict.fromkeys(names):
        spec = specs.get(name)
        if spec is None or spec.retires_on is None:
            continue
        if spec.is_retired(on):
            notes.append(f"{name} retired {spec.retires_on}")
        elif spec.retires_within(within_days, on):
            notes.append(f"{name} retires {spec.retires_on}")
    return notes


def retirement_flags(*, within_days: int = RETIRING_SOON_DAYS) -> list[RetirementFlag]:
    """Every registered user of a model that is retired or retires within `within_days`."""
    on = catalog.today()
    specs = {s.name: s for s in all_specs()}
    flags = []
    for source in _sources:
        for label, url, names in source():
            for name in dict.fromkeys(names):
                spec = specs.get(name)
                if spec is None or spec.retires_on is None:
                    continue
                if spec.is_retired(on) or spec.retires_within(within_days, on):
                    flags.append(
                        RetirementFlag(
                            label, url, name, spec.retires_on, spec.is_retired(on), spec.replacement
                        )
                    )
    return flags
