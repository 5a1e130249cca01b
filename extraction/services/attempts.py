"""The attempts of a run: one ExtractionAttempt row per model call (held through a database
outage), and the run's usage, cost and route fields summed from them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from extraction.models import ExtractionAttempt
from extraction.services import durable
from llm.cost import combined_source
from llm.types import Attempt
from remorai.logging import redact

logger = logging.getLogger(__name__)


def attempt_row(run_id, attempt: Attempt, pages: str = "") -> ExtractionAttempt:
    return ExtractionAttempt(
        run_id=run_id,
        pages=pages,
        route=attempt.route,
        provider=attempt.provider,
        model=attempt.model,
        operation=attempt.operation,
        started_at=attempt.started_at,
        latency_ms=max(0, int(attempt.latency_ms)),
        outcome=attempt.outcome,
        http_status=attempt.http_status,
        error_code=attempt.error_code[:64],
        provider_code=attempt.provider_code[:128],
        error_message=redact(attempt.error_message or "")[:500],
        input_tokens=attempt.usage.input_tokens,
        output_tokens=attempt.usage.output_tokens,
        document_tokens=attempt.usage.document_tokens,
        cost_usd=attempt.cost_usd,
        request_id=attempt.request_id[:255],
    )


class AttemptRecorder:
    def __init__(self, run_id, held: durable.HeldAttempts | None = None):
        self.run_id = run_id
        self.recorded: list[Attempt] = []
        self.held = held

    def __call__(self, attempt: Attempt, *, pages: str = "") -> None:
        row = attempt_row(self.run_id, attempt, pages)
        try:
            row.save()
        except durable.DB_UNAVAILABLE:
            if self.held is None:
                raise
            # Written with the terminal write (its usage and cost must not be lost).
            logger.warning("attempt of run %s held: database unavailable", self.run_id)
            self.held.hold(row)
        except Exception:  # noqa: BLE001 - history must never break the run
            logger.warning("attempt of run %s not recorded", self.run_id, exc_info=True)
        self.recorded.append(attempt)

    def for_pages(self, pages: str):
        """The recorder of a segment's calls (#14): its rows name the pages sent."""
        return lambda attempt: self(attempt, pages=pages)

    def catch_up(self, attempts: Iterable[Attempt]) -> None:
        """Record attempts the LLM layer reported only at the end."""
        for attempt in attempts:
            if attempt not in self.recorded:
                self(attempt)


def _sum(values) -> Any:
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def usage_fields(attempts: Iterable[Attempt], generation=None) -> dict:
    attempts = list(attempts)
    fields = {
        "input_tokens": _sum(a.usage.input_tokens for a in attempts),
        "output_tokens": _sum(a.usage.output_tokens for a in attempts),
        "document_tokens": _sum(a.usage.document_tokens for a in attempts),
        "cost_usd": _sum(a.cost_usd for a in attempts),
        "cost_source": combined_source(a.cost_source for a in attempts if a.cost_usd is not None),
    }
    if generation is not None:
        for name in ("input_tokens", "output_tokens", "document_tokens"):
            if fields[name] is None:
                fields[name] = getattr(generation.usage, name)
        if fields["cost_usd"] is None:
            fields["cost_usd"] = generation.cost_usd
            priced = generation.cost_usd is not None
            fields["cost_source"] = generation.cost_source if priced else ""
    if fields["cost_usd"] is not None:
        fields["cost_usd"] = Decimal(fields["cost_usd"]).quantize(Decimal("0.000001"))
    return fields


def route_fields(attempts: Iterable[Attempt]) -> dict:
    """For a run that ends without an answer (failed, cancelled): the model and route of its
    last model call, and whether the provider simulator took part; nothing when none was made."""
    attempts = list(attempts)
    calls = [a for a in attempts if a.operation in ("generate", "repair")]
    fields = {"simulated": any(a.simulated for a in attempts)}
    if calls:
        fields.update(model_used=calls[-1].model, route=calls[-1].route)
    return fields
