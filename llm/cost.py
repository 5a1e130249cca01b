"""The cost of one call: the one place prices meet usage."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from llm.types import Usage

if TYPE_CHECKING:
    from llm.catalog import ModelSpec

_MILLION = Decimal(1_000_000)
_CENT_FRACTION = Decimal("0.000001")

#: where a cost came from (ExtractionRun.cost_source)
SOURCE_PROXY = "proxy"
SOURCE_CATALOG = "catalog"
SOURCE_MIXED = "mixed"
SOURCE_NONE = ""


def combined_source(sources) -> str:
    """The cost source of several calls: the one they share, "mixed", or "" when none priced."""
    found = {s for s in sources if s}
    if not found:
        return SOURCE_NONE
    return found.pop() if len(found) == 1 else SOURCE_MIXED


def call_cost(
    spec: ModelSpec | None,
    usage: Usage,
    *,
    reported: Decimal | None = None,
    reported_source: str = SOURCE_PROXY,
    batch: bool = False,
) -> tuple[Decimal | None, str]:
    """(USD, source) for one call.

    The cost the proxy reported (x-litellm-response-cost) wins when present; else the catalog's
    prices per 1M tokens: input_tokens include document_tokens (as Gemini's promptTokenCount
    does), the document part priced at price_document (the input price when unset); batch jobs
    get the model's batch discount. (None, "") when neither is known.
    """
    if reported is not None:
        return reported, reported_source or SOURCE_PROXY
    if spec is None or spec.price_input is None or spec.price_output is None:
        return None, SOURCE_NONE
    if usage.input_tokens is None and usage.output_tokens is None:
        return None, SOURCE_NONE
    inputs = usage.input_tokens or 0
    documents = min(usage.document_tokens or 0, inputs)
    doc_price = spec.price_document if spec.price_document is not None else spec.price_input
    total = (
        (inputs - documents) * spec.price_input
        + documents * doc_price
        + (usage.output_tokens or 0) * spec.price_output
    ) / _MILLION
    if batch:
        total *= 1 - spec.batch_discount
    return total.quantize(_CENT_FRACTION), SOURCE_CATALOG


def model_cost_with_source(
    model: str,
    usage: Usage,
    *,
    reported: Decimal | None = None,
    reported_source: str = SOURCE_PROXY,
    batch: bool = False,
) -> tuple[Decimal | None, str]:
    """call_cost for a catalog name (no prices when the model is unknown). A cost already
    computed (the proxy's, or ours at the batch price) is kept with its source."""
    from llm.catalog import get_model
    from llm.errors import LLMError

    try:
        spec = get_model(model)
    except LLMError:
        spec = None
    return call_cost(spec, usage, reported=reported, reported_source=reported_source, batch=batch)
