"""Sync the model catalog from the LiteLLM proxy (`/model/info` and `/v1/models`).

Creates the models the proxy serves that the catalog lacks and updates the limits and prices the
proxy knows (source = proxy); never deletes, never touches enabled/retirement/replacement, keeps a
model whose prices the proxy's cost map does not know (its cost then comes from the proxy's
response header, or stays unknown). Page and byte limits are ours (the proxy has none): a new model
gets its provider's defaults.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from llm import catalog
from llm.catalog_services import llm_model_create, llm_model_update
from llm.models import LLMModel, ModelSource

logger = logging.getLogger(__name__)
_MILLION = Decimal(1_000_000)


@dataclass
class ModelChange:
    name: str
    action: str  # "create", "update", "unchanged", "skip"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    note: str = ""

    def __str__(self) -> str:
        if self.action in ("skip", "unchanged"):
            return f"{self.action:9} {self.name}" + (f"  ({self.note})" if self.note else "")
        diff = ", ".join(
            f"{k}: {_show(a)} → {_show(b)}" for k, b_a in self.fields.items() for a, b in [b_a]
        )
        return f"{self.action:9} {self.name}  {diff}"


def _show(value) -> str:
    if isinstance(value, LLMModel):
        return value.name
    return "-" if value is None else str(value)


def sync_models(*, dry_run: bool = False, gateway=None) -> list[ModelChange]:
    """Read the proxy's models and apply them to the catalog (nothing written when dry_run)."""
    if gateway is None:
        from llm.gateways.litellm_proxy import LiteLLMProxy

        gateway = LiteLLMProxy()
    info, listed = gateway.served_models()
    proxied = _merge(info, listed)
    existing = {m.name: m for m in LLMModel.objects.filter(name__in=proxied)}
    changes = []
    with transaction.atomic():
        for name, values in sorted(proxied.items()):
            changes.append(_apply(name, values, existing.get(name)))
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run:
        transaction.on_commit(catalog.invalidate)
    logger.info(
        "sync_models%s: %s",
        " (dry run)" if dry_run else "",
        ", ".join(f"{c.action} {c.name}" for c in changes if c.action in ("create", "update"))
        or "no changes",
    )
    return changes


def _merge(info: list[dict], listed: list[dict]) -> dict[str, dict]:
    """name → the values the proxy knows (None: unknown), from /model/info over /v1/models."""
    models: dict[str, dict] = {}
    for entry in listed:
        name = entry.get("id")
        if name:
            models[name] = {
                "max_input_tokens": entry.get("max_input_tokens"),
                "max_output_tokens": entry.get("max_output_tokens"),
            }
    for entry in info:
        name = entry.get("model_name")
        if not name:
            continue
        meta = entry.get("model_info") or {}
        upstream = (entry.get("litellm_params") or {}).get("model") or ""
        values = models.setdefault(name, {})
        values["direct_model"] = upstream.partition("/")[2] if "/" in upstream else upstream
        for key in ("max_input_tokens", "max_output_tokens"):
            if meta.get(key) is not None:
                values[key] = meta[key]
        values["price_input"] = _per_million(meta.get("input_cost_per_token"))
        values["price_output"] = _per_million(meta.get("output_cost_per_token"))
        batch = _per_million(meta.get("input_cost_per_token_batches"))
        if batch is not None and values["price_input"]:
            values["batch_discount"] = (1 - batch / values["price_input"]).quantize(
                Decimal("0.001")
            )
    return models


def _per_million(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return (Decimal(str(value)) * _MILLION).quantize(Decimal("0.000001")).normalize()
    except ArithmeticError:
        return None


def _apply(name: str, values: dict, model: LLMModel | None) -> ModelChange:
    provider = name.partition("/")[0]
    if provider not in catalog.PROVIDERS:
        return ModelChange(name, "skip", note="not a 'provider/model' name Remorai routes")
    known = {k: v for k, v in values.items() if v not in (None, "")}
    if model is None:
        if known.get("price_input") is not None:
            known.setdefault("price_document", known["price_input"])
        created = llm_model_create(name=name, source=ModelSource.PROXY, **known)
        fields = {k: (None, getattr(created, k)) for k in sorted(known)}
        return ModelChange(name, "create", fields)
    known.pop("direct_model", None)  # the direct id is ours once the model exists
    diff = llm_model_update(model=model, source=ModelSource.PROXY, **known)
    return ModelChange(name, "update" if diff else "unchanged", diff)
