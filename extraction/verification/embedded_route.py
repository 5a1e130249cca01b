"""The `embedded` route of a run: an `invoice` run on a document carrying an e-invoice is answered
from the XML (no provider call, no cost), unless it asked for `"source": "model"` — then the model
answers and each of its values is compared with the XML.

`embedded_plan` decides, before any provider is called; the run execution does what it says.
A malformed or non-invoice XML never fails the run: the model answers, with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extraction.verification.einvoice import EmbeddedInvoiceUnusable, embedded_invoice_read
from extraction.verification.embedded_compare import embedded_comparison
from llm.validation import schema_errors

logger = logging.getLogger(__name__)

EMBEDDED_PROFILES = ("invoice",)  # profiles whose schema invoice_fields maps
ROUTE = "embedded"
SOURCE_MODEL = "model"
WARNING_UNUSABLE = "embedded_invoice_unusable"


@dataclass(frozen=True)
class EmbeddedPlan:
    """`result` is the XML's answer (None: no usable XML); `answer` says the run ends with it."""

    result: dict | None = None
    answer: bool = False
    warnings: list[dict] = field(default_factory=list)

    def comparison(self, model_result: Any) -> dict[str, dict] | None:
        """The model's answer compared with the XML, by JSON path (None without an XML)."""
        if self.result is None:
            return None
        return embedded_comparison(model_result, self.result)


NO_PLAN = EmbeddedPlan()


def embedded_plan(*, run, path: str | Path) -> EmbeddedPlan:
    """What the embedded invoice of `run`'s document means for it (never raises)."""
    document = run.document
    if not document.embedded_invoice or _profile_slug(run) not in EMBEDDED_PROFILES:
        return NO_PLAN
    try:
        result = embedded_invoice_read(path)
        errors = schema_errors(result, run.schema)
        if errors:
            raise EmbeddedInvoiceUnusable(
                f"its fields do not fit the profile's schema ({errors[0][:200]})"
            )
    except EmbeddedInvoiceUnusable as exc:
        logger.info("run %s: embedded invoice unusable: %s", run.pk, exc)
        return EmbeddedPlan(warnings=[_unusable(str(exc))])
    except Exception as exc:  # noqa: BLE001 - the XML never fails a run
        logger.exception("run %s: reading the embedded invoice failed", run.pk)
        return EmbeddedPlan(warnings=[_unusable(f"it could not be read ({type(exc).__name__})")])
    return EmbeddedPlan(result=result, answer=getattr(run, "source", "auto") != SOURCE_MODEL)


def answers_from_xml(run) -> bool:
    """Whether `run` is answered from its document's embedded invoice (when the XML is usable),
    told from the rows alone, without reading the PDF: a provider batch job leaves it out."""
    return (
        bool(run.document.embedded_invoice)
        and _profile_slug(run) in EMBEDDED_PROFILES
        and getattr(run, "source", "auto") != SOURCE_MODEL
    )


def embedded_evidence(evidence: dict | None, comparison: dict | None) -> dict | None:
    """The run's evidence with each compared path's status set to matches_embedded or
    contradicts_embedded (and `embedded_value`), the text-layer location kept beside it."""
    if comparison is None:
        return evidence
    merged = dict(evidence or {})
    for path, compared in comparison.items():
        entry = dict(merged.get(path) or {})
        if "status" in entry and entry["status"] != compared["status"]:
            entry["text_status"] = entry["status"]
        entry.update(compared)
        merged[path] = entry
    return merged


def _unusable(reason: str) -> dict:
    return {
        "code": WARNING_UNUSABLE,
        "message": f"The document's embedded e-invoice was not used: {reason}. "
        "The model answered instead.",
    }


def _profile_slug(run) -> str:
    profile = getattr(run, "profile", None)
    return getattr(profile, "slug", "") or ""


def embedded_extract(plan: EmbeddedPlan):
    """A stand-in for llm.service.extract that answers with the plan's XML result."""

    def extract(**_):
        return embedded_outcome(plan)

    return extract


def embedded_outcome(plan: EmbeddedPlan):
    """The plan's XML answer in the shape of llm.service.extract's outcome: no attempt, no
    tokens, no cost, not simulated."""
    from decimal import Decimal

    from llm.service import ExtractionOutcome
    from llm.types import Generation, Usage

    generation = Generation(
        text="",
        model="",
        usage=Usage(input_tokens=0, output_tokens=0, document_tokens=0),
        data=plan.result,
        cost_usd=Decimal(0),
        simulated=False,
    )
    return ExtractionOutcome(
        generation=generation,
        data=plan.result,
        route=ROUTE,
        provider="",
        model_used="",
        attempts=(),
        repaired=False,
    )
