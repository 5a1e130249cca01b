"""A run's verification: evidence for its result, the profile's checks, and needs_review.

`run_verification_compute` is called once, after the output validated and before the run's
terminal write, which stores its fields with the result. It never raises: evidence that cannot be
computed is logged and the run still succeeds with `verification: null`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .checks import checks_for_run
from .embedded_route import embedded_evidence
from .evidence import NOT_FOUND, evidence_compute, evidence_counts

logger = logging.getLogger(__name__)

CONTRADICTS_EMBEDDED = "contradicts_embedded"
# Evidence statuses that put a succeeded run in the review queue.
REVIEW_STATUSES = (NOT_FOUND, CONTRADICTS_EMBEDDED)


@dataclass(frozen=True)
class RunVerification:
    evidence: dict[str, dict] | None
    verification: dict[str, int] | None
    checks: list[dict]
    needs_review: bool

    def fields(self) -> dict[str, Any]:
        """The ExtractionRun fields to write with the result."""
        return {
            "evidence": self.evidence,
            "verification": self.verification,
            "checks": self.checks,
            "needs_review": self.needs_review,
        }


def run_verification_compute(
    *, run, result: Any, embedded: dict[str, dict] | None = None
) -> RunVerification:
    """Evidence, counts, checks and needs_review for `result` of `run` (never raises).

    `embedded`: the answer compared with the document's embedded e-invoice, by JSON path
    (extraction.verification.embedded_route), laid over the evidence (`source: model` runs)."""
    evidence = counts = None
    try:
        evidence = evidence_compute(
            document=run.document, result=result, item_pages=_item_pages(run)
        )
        counts = evidence_counts(evidence)
    except Exception:  # noqa: BLE001 - evidence never breaks a run
        logger.exception("verification: evidence for run %s could not be computed", run.pk)
        evidence = counts = None
    evidence = embedded_evidence(evidence, embedded)
    checks = checks_for_run(run=run, result=result)
    return RunVerification(
        evidence=evidence,
        verification=counts,
        checks=checks,
        needs_review=needs_review(evidence=evidence, checks=checks),
    )


def _item_pages(run) -> dict[str, int] | None:
    """{"line_items[3]": 12} for a segmented run (#14): each merged item's page."""
    per_array = (getattr(run, "segments", None) or {}).get("item_pages") or {}
    return {
        f"{name}[{index}]": page
        for name, pages in per_array.items()
        for index, page in enumerate(pages)
        if page is not None
    } or None


def needs_review(*, evidence: dict[str, dict] | None, checks: list[dict]) -> bool:
    """A value not found in the document, one the embedded invoice contradicts, or a failed
    check (a skipped one, `ok: null`, is not a failure)."""
    if evidence and any(entry.get("status") in REVIEW_STATUSES for entry in evidence.values()):
        return True
    return any(check.get("ok") is False for check in checks or ())
