"""The model catalog: the `LLMModel` table, overridden by LLM_MODELS_JSON, read through one cache.

Precedence, per model and field: LLM_MODELS_JSON (the operator's deploy-time override; `null`
removes a model) > the table (seeded by migration, synced from the proxy, edited by staff).
Each process keeps the merged catalog for LLM_CATALOG_CACHE_SECONDS and then reads the table
again, so an edit in one process reaches every web and worker process within that time without a
restart (the writing process drops its own copy at once).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from llm.conf import conf
from llm.errors import ModelRetired, UnknownModel

logger = logging.getLogger(__name__)

PROVIDERS = ("openai", "gemini", "anthropic")
#: per-request limits of a model named only in LLM_MODELS_JSON, by provider
DEFAULT_LIMITS = {
    "openai": (100, 32 * 1024 * 1024),
    "anthropic": (100, 32 * 1024 * 1024),
    "gemini": (1000, 50 * 1024 * 1024),
}
RETIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class ModelSpec:
    name: str  # "provider/model", also the proxy's model_name
    provider: str
    direct_model: str
    max_pages: int
    max_bytes: int
    price_input: Decimal | None = None
    price_output: Decimal | None = None
    price_document: Decimal | None = None
    batch_discount: Decimal = Decimal("0.5")  # the three providers charge half for batches
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    retires_on: date | None = None
    replacement: str = ""
    enabled: bool = True
    source: str = "seed"
    #: fields set by LLM_MODELS_JSON (they win over the table)
    overridden: tuple[str, ...] = field(default=())

    def is_retired(self, on: date | None = None) -> bool:
        return self.retires_on is not None and self.retires_on <= (on or today())

    def retires_within(self, days: int = RETIRING_SOON_DAYS, on: date | None = None) -> bool:
        on = on or today()
        return self.retires_on is not None and on < self.retires_on <= on + timedelta(days=days)

    @property
    def deprecated(self) -> str:
        """A human note when the model is retired or retires within RETIRING_SOON_DAYS."""
        if self.retires_on is None or not (self.is_retired() or self.retires_within()):
            return ""
        verb = "retired on" if self.is_retired() else "retires on"
        instead = f"; use {self.replacement}" if self.replacement else ""
        return f"{self.name} {verb} {self.retires_on.isoformat()}{instead}."


def today() -> date:
    """The current date in UTC: a model retires at 00:00 UTC on its retires_on day."""
    return timezone.now().date()


# --- the per-process cache --------------------------------------------------------------------

_lock = threading.Lock()
_cached: dict[str, ModelSpec] | None = None
_cached_overrides: dict | None = None
_loaded_at = 0.0
_skipped_logged: set[str] = set()


def invalidate() -> None:
    """Forget this process's copy (the next read loads the table again)."""
    global _cached
    with _lock:
        _cached = None


def _catalog() -> dict[str, ModelSpec]:
    global _cached, _cached_overrides, _loaded_at
    now = time.monotonic()
    overrides = conf.LLM_MODELS_JSON or {}
    with _lock:
        fresh = now - _loaded_at < conf.LLM_CATALOG_CACHE_SECONDS
        if _cached is not None and fresh and overrides == _cached_overrides:
            return _cached
    loaded = _apply_overrides(_from_table(), overrides)
    with _lock:
        _cached, _cached_overrides, _loaded_at = loaded, overrides, now
    return loaded


def _from_table() -> dict[str, ModelSpec]:
    from llm.models import LLMModel

    rows = LLMModel.objects.select_related("replacement").order_by("name")
    return {row.name: spec_from_row(row) for row in rows}


def spec_from_row(row) -> ModelSpec:
    return ModelSpec(
        name=row.name,
        provider=row.provider,
        direct_model=row.direct_model,
        max_pages=row.max_pages,
        max_bytes=row.max_bytes,
        price_input=row.price_input,
        price_output=row.price_output,
        price_document=row.price_document,
        batch_discount=row.batch_discount,
        max_input_tokens=row.max_input_tokens,
        max_output_tokens=row.max_output_tokens,
        retires_on=row.retires_on,
        replacement=row.replacement.name if row.replacement_id else "",
        enabled=row.enabled,
        source=row.source,
    )


_OVERRIDABLE = {f.name for f in fields(ModelSpec)} - {"name", "provider", "overridden"}


def _apply_overrides(specs: dict[str, ModelSpec], overrides: dict) -> dict[str, ModelSpec]:
    merged = dict(specs)
    for name, raw in overrides.items():
        if raw is None:
            merged.pop(name, None)
            continue
        provider, _, model_id = name.partition("/")
        values = {k: _coerce(k, v) for k, v in raw.items() if k in _OVERRIDABLE}
        base = merged.get(name)
        if base is None:
            pages, size = DEFAULT_LIMITS.get(provider, DEFAULT_LIMITS["openai"])
            base = ModelSpec(name, provider, model_id, pages, size, source="settings")
        merged[name] = replace(base, **values, overridden=tuple(sorted(values)))
    return merged


def _coerce(key: str, value):
    if key.startswith("price_") or key == "batch_discount":
        return None if value in (None, "") else Decimal(str(value))
    if key.startswith("max_"):
        return None if value in (None, "") else int(value)
    if key == "retires_on":
        return None if not value else date.fromisoformat(str(value))
    if key == "enabled":
        return bool(value)
    return "" if value is None else str(value)


# --- the accessor -----------------------------------------------------------------------------


def all_specs() -> list[ModelSpec]:
    """Every model in the catalog, disabled and retired ones included (for listings)."""
    return list(_catalog().values())


def model_names() -> list[str]:
    """The names a request may use: enabled and not retired."""
    return [s.name for s in _catalog().values() if s.enabled and not s.is_retired()]


def get_model(name: str) -> ModelSpec:
    """The catalog entry for `name`; UnknownModel when it is not in the catalog or disabled.

    A retired model is returned (callers decide: see usable_model and llm.routing).
    """
    spec = _catalog().get(name)
    if spec is None or not spec.enabled or spec.provider not in PROVIDERS:
        state = "disabled" if spec is not None and not spec.enabled else "not in the catalog"
        raise UnknownModel(
            f"Unknown model {name!r} ({state}). Known models: {', '.join(model_names())}.",
            model=name,
        )
    return spec


def usable_model(name: str) -> ModelSpec:
    """The entry for `name` if it may be called today; else UnknownModel or ModelRetired."""
    spec = get_model(name)
    if spec.is_retired():
        raise retired_error(spec)
    return spec


def retired_error(spec: ModelSpec) -> ModelRetired:
    instead = f" Use {spec.replacement} instead." if spec.replacement else ""
    return ModelRetired(
        f"{spec.name} was retired on {spec.retires_on.isoformat()}.{instead}",
        model=spec.name,
        retired_on=spec.retires_on.isoformat(),
        replacement=spec.replacement or None,
    )


def log_skipped_once(spec: ModelSpec) -> None:
    """A retired fallback is skipped: say so once per process and model."""
    if spec.name in _skipped_logged:
        return
    _skipped_logged.add(spec.name)
    logger.warning(
        "Skipping retired fallback model %s (retired on %s; replacement: %s).",
        spec.name,
        spec.retires_on,
        spec.replacement or "none",
    )
