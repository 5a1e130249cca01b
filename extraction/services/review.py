"""Human review: staff corrections kept beside the model's output, never over it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from extraction.errors import InvalidReview, RunNotReviewable
from extraction.models import ExtractionRun
from llm.schema_safety import schema_validator


def review_errors(*, schema: dict, data) -> list[tuple[str, str]]:
    """(field path, message) for each way `data` breaks `schema`."""
    validator = schema_validator(schema or {})
    return [
        ("/".join(map(str, e.absolute_path)) or "(root)", e.message)
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]


@transaction.atomic
def extraction_run_review(*, run: ExtractionRun, reviewed_result: dict, reviewer) -> ExtractionRun:
    """Store a reviewer's corrected result on a succeeded run (result itself is untouched).

    Raises RunNotReviewable unless the run succeeded, InvalidReview (with `errors`) when the
    correction does not validate against the schema the run used.
    """
    run = ExtractionRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ExtractionRun.Status.SUCCEEDED:
        raise RunNotReviewable(status=run.status)
    errors = review_errors(schema=run.schema, data=reviewed_result)
    if errors:
        raise InvalidReview(errors=[{"field": f, "message": m} for f, m in errors])
    run.reviewed_result = reviewed_result
    run.reviewer = reviewer
    run.reviewed_at = timezone.now()
    run.save(update_fields=["reviewed_result", "reviewer", "reviewed_at"])
    return run
