"""Extraction profiles: validated on every change, versioned so runs keep what they used."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from extraction.errors import InvalidProfileSchema, UnknownCheck, UnknownModel
from extraction.models import ExtractionProfile
from llm.schema_safety import schema_problems
from remorai.errors import ApplicationError

_VERSIONED_FIELDS = ExtractionProfile.VERSIONED_FIELDS


def profile_schema_check(*, schema) -> None:
    """Raise InvalidProfileSchema unless `schema` is a JSON object schema (Draft 2020-12)."""
    if not isinstance(schema, dict):
        raise InvalidProfileSchema("The schema must be a JSON object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidProfileSchema(
            f"Invalid JSON Schema: {exc.message}", path="/".join(map(str, exc.path))
        ) from exc
    except RecursionError:
        raise InvalidProfileSchema("The schema is nested too deeply.") from None
    problems = schema_problems(schema)
    if problems:
        pointer, problem = problems[0]
        raise InvalidProfileSchema(
            f"Unsafe JSON Schema at {pointer or '/'}: {problem}.", path=pointer
        )
    if schema.get("type") != "object":
        raise InvalidProfileSchema('The top level of the schema must be {"type": "object"}.')


def model_check(*, model: str) -> None:
    """Raise UnknownModel unless `model` is in the model catalog (and enabled), ModelRetired
    (422 `model_retired`, naming its replacement) when it is past its retirement date."""
    from llm import catalog, errors

    try:
        catalog.usable_model(model)
    except errors.ModelRetired:
        raise
    except errors.UnknownModel:
        raise UnknownModel(
            f"Unknown model {model!r}.", model=model, known=catalog.model_names()
        ) from None


def profile_checks_check(*, checks) -> None:
    """Raise UnknownCheck unless `checks` is a list of registered check names."""
    from extraction.verification.checks import check_names, unknown_checks

    if not isinstance(checks, list | tuple) or not all(isinstance(c, str) for c in checks):
        raise UnknownCheck("checks must be a list of check names.", known=check_names())
    unknown = unknown_checks(checks)
    if unknown:
        raise UnknownCheck(
            f"Unknown check {', '.join(map(repr, unknown))}.", unknown=unknown, known=check_names()
        )


def profile_segmenting_check(*, segmenting, schema) -> None:
    """Raise InvalidSegmenting unless `segmenting` is valid for `schema` (extraction.segmenting)."""
    from extraction import segmenting as settings

    settings.parse(segmenting, schema=schema)


def _check(
    *,
    schema,
    default_model: str,
    fallback_models: Sequence[str],
    checks: Sequence[str] = (),
    segmenting=None,
) -> None:
    profile_schema_check(schema=schema)
    profile_checks_check(checks=checks)
    profile_segmenting_check(segmenting=segmenting, schema=schema)
    if not isinstance(fallback_models, list | tuple) or not all(
        isinstance(m, str) for m in fallback_models
    ):
        raise ApplicationError("fallback_models must be a list of model names.")
    for model in (default_model, *fallback_models):
        model_check(model=model)


@transaction.atomic
def extraction_profile_create(
    *,
    slug: str,
    name: str,
    instructions: str,
    schema: dict,
    default_model: str,
    fallback_models: Sequence[str] = (),
    checks: Sequence[str] = (),
    segmenting: dict | None = None,
) -> ExtractionProfile:
    _check(
        schema=schema,
        default_model=default_model,
        fallback_models=fallback_models,
        checks=checks,
        segmenting=segmenting,
    )
    profile = ExtractionProfile(
        slug=slug,
        name=name,
        instructions=instructions,
        schema=schema,
        default_model=default_model,
        fallback_models=list(fallback_models),
        checks=list(checks),
        segmenting=segmenting or {},
        version=1,
    )
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def extraction_profile_update(*, profile: ExtractionProfile, **changes) -> ExtractionProfile:
    """Apply `changes`; the schema is re-checked and the version goes up when anything changed."""
    unknown = set(changes) - set(_VERSIONED_FIELDS)
    if unknown:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))}.")
    profile = ExtractionProfile.objects.select_for_update().get(pk=profile.pk)
    changed = [f for f, v in changes.items() if getattr(profile, f) != v]
    if not changed:
        return profile
    for field, value in changes.items():
        is_list = field in ("fallback_models", "checks") and isinstance(value, list | tuple)
        setattr(profile, field, list(value) if is_list else value)
    _check(
        schema=profile.schema,
        default_model=profile.default_model,
        fallback_models=profile.fallback_models,
        checks=profile.checks,
        segmenting=profile.segmenting,
    )
    profile.version += 1
    profile.save(update_fields=[*changed, "version", "updated_at"])
    return profile
