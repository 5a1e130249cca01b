"""Writes to the model catalog: every change validated here, whoever makes it (admin, sync)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from llm import catalog
from llm.models import LLMModel, ModelSource
from remorai.errors import ApplicationError

PRICE_FIELDS = ("price_input", "price_output", "price_document")
LIMIT_FIELDS = ("max_pages", "max_bytes", "max_input_tokens", "max_output_tokens")
EDITABLE = (
    "direct_model",
    "enabled",
    *LIMIT_FIELDS,
    *PRICE_FIELDS,
    "batch_discount",
    "retires_on",
    "replacement",
)


class InvalidModelChange(ApplicationError):
    code = "invalid_model_change"
    status_code = 422
    default_detail = "The model change is not valid."

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)
        self.errors = errors


def llm_model_validate(*, name: str, values: dict[str, Any], instance: LLMModel | None) -> None:
    """Raise InvalidModelChange unless prices ≥ 0, limits > 0, the replacement exists (and is
    another model), the batch discount is within 0..1 and the name is 'provider/model'."""
    errors: dict[str, str] = {}
    provider, _, model_id = name.partition("/")
    if provider not in catalog.PROVIDERS or not model_id:
        errors["name"] = f"must be 'provider/model' with provider one of {catalog.PROVIDERS}"
    for field in PRICE_FIELDS:
        value = values.get(field)
        if value is not None and Decimal(str(value)) < 0:
            errors[field] = "must be ≥ 0"
    for field in LIMIT_FIELDS:
        value = values.get(field)
        if value is not None and int(value) <= 0:
            errors[field] = "must be > 0"
    for field in ("max_pages", "max_bytes"):
        if field in values and values[field] is None:
            errors[field] = "is required"
    discount = values.get("batch_discount")
    if discount is not None and not Decimal(0) <= Decimal(str(discount)) <= Decimal(1):
        errors["batch_discount"] = "must be between 0 and 1"
    replacement = values.get("replacement")
    if replacement is not None:
        if not isinstance(replacement, LLMModel) or replacement.pk is None:
            errors["replacement"] = "must be an existing model"
        elif replacement.name == name:
            errors["replacement"] = "must be another model"
    if "direct_model" in values and not values["direct_model"]:
        errors["direct_model"] = "is required"
    if errors:
        raise InvalidModelChange(errors)


@transaction.atomic
def llm_model_create(*, name: str, source: str = ModelSource.STAFF, **values) -> LLMModel:
    provider = name.partition("/")[0]
    pages, size = catalog.DEFAULT_LIMITS.get(provider, (None, None))
    values = {
        "direct_model": name.partition("/")[2],
        "max_pages": pages,
        "max_bytes": size,
        **values,
    }
    llm_model_validate(name=name, values=values, instance=None)
    model = LLMModel.objects.create(name=name, provider=provider, source=source, **values)
    transaction.on_commit(catalog.invalidate)
    return model


@transaction.atomic
def llm_model_update(
    *, model: LLMModel, source: str = ModelSource.STAFF, **changes
) -> dict[str, tuple[Any, Any]]:
    """Apply `changes` (fields of EDITABLE); returns {field: (old, new)} of what changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidModelChange({f: "not editable" for f in sorted(unknown)})
    llm_model_validate(name=model.name, values=changes, instance=model)
    diff = {}
    for field, new in changes.items():
        old = getattr(model, field)
        if _differs(old, new):
            diff[field] = (old, new)
            setattr(model, field, new)
    if diff:
        model.source = source
        model.save(update_fields=[*diff, "source", "updated_at"])
        transaction.on_commit(catalog.invalidate)
    return diff


def _differs(old, new) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        if old is None or new is None:
            return old is not new
        return Decimal(str(old)) != Decimal(str(new))
    if isinstance(old, LLMModel) or isinstance(new, LLMModel):
        return getattr(old, "pk", None) != getattr(new, "pk", None)
    return old != new
