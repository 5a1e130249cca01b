"""The model catalog (settings.LLM_MODELS) as typed entries: limits, prices, deprecations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from llm.errors import UnknownModel
from llm.types import Usage

logger = logging.getLogger(__name__)

PROVIDERS = ("openai", "gemini", "anthropic")
_MILLION = Decimal(1_000_000)
_warned: set[str] = set()


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
    deprecated: str = ""


def _price(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _spec(name: str, raw: dict) -> ModelSpec:
    provider, _, model_id = name.partition("/")
    return ModelSpec(
        name=name,
        provider=provider,
        direct_model=raw.get("direct_model") or model_id,
        max_pages=int(raw.get("max_pages") or 100),
        max_bytes=int(raw.get("max_bytes") or 32 * 1024 * 1024),
        price_input=_price(raw.get("price_input")),
        price_output=_price(raw.get("price_output")),
        price_document=_price(raw.get("price_document", raw.get("price_input"))),
        deprecated=str(raw.get("deprecated") or ""),
    )


def all_models() -> list[ModelSpec]:
    return [_spec(name, raw) for name, raw in settings.LLM_MODELS.items()]


def get_model(name: str) -> ModelSpec:
    """The catalog entry for `name`; UnknownModel when it is not in the catalog.

    A deprecated model stays usable; a warning is logged once per process.
    """
    raw = settings.LLM_MODELS.get(name)
    provider = name.partition("/")[0]
    if raw is None or provider not in PROVIDERS:
        raise UnknownModel(
            f"Unknown model {name!r}. Known models: {', '.join(sorted(settings.LLM_MODELS))}.",
            model=name,
        )
    spec = _spec(name, raw)
    if spec.deprecated and name not in _warned:
        _warned.add(name)
        logger.warning("Model %s is deprecated: %s", name, spec.deprecated)
    return spec


def estimate_cost(spec: ModelSpec, usage: Usage) -> Decimal | None:
    """USD for one call from the catalog's prices (the direct path: providers send no cost).

    input_tokens is taken to include document_tokens (as Gemini's promptTokenCount does); the
    document part is priced at price_document.
    """
    if spec.price_input is None or spec.price_output is None:
        return None
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    inputs = usage.input_tokens or 0
    documents = min(usage.document_tokens or 0, inputs)
    doc_price = spec.price_document if spec.price_document is not None else spec.price_input
    total = (
        (inputs - documents) * spec.price_input
        + documents * doc_price
        + (usage.output_tokens or 0) * spec.price_output
    ) / _MILLION
    return total.quantize(Decimal("0.000001"))
