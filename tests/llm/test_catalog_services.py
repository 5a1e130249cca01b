"""Edits of the model catalog: validated in one service, seen by the next read at once."""

from datetime import date
from decimal import Decimal

import pytest

from llm import catalog
from llm.catalog_services import InvalidModelChange, llm_model_create, llm_model_update
from llm.models import LLMModel


def model(name="openai/gpt-4o"):
    return LLMModel.objects.get(name=name)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_input": Decimal("-1")}, "price_input"),
        ({"max_pages": 0}, "max_pages"),
        ({"max_bytes": -5}, "max_bytes"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"batch_discount": Decimal("1.5")}, "batch_discount"),
        ({"replacement": LLMModel(name="openai/ghost")}, "replacement"),
        ({"direct_model": ""}, "direct_model"),
        ({"provider": "gemini"}, "provider"),
    ],
)
def test_invalid_changes_are_refused_and_nothing_is_written(changes, field):
    before = model()
    with pytest.raises(InvalidModelChange) as caught:
        llm_model_update(model=model(), **changes)
    assert field in caught.value.errors
    after = model()
    assert (after.price_input, after.max_pages, after.updated_at) == (
        before.price_input,
        before.max_pages,
        before.updated_at,
    )


def test_a_model_cannot_replace_itself():
    with pytest.raises(InvalidModelChange, match="another model"):
        llm_model_update(model=model(), replacement=model())


def test_a_valid_edit_is_saved_as_staff_and_read_back_at_once(django_capture_on_commit_callbacks):
    assert catalog.get_model("openai/gpt-4o").price_input == Decimal("2.50")
    with django_capture_on_commit_callbacks(execute=True):
        diff = llm_model_update(
            model=model(), price_input=Decimal("2.00"), retires_on=date(2027, 2, 1)
        )
    assert set(diff) == {"price_input", "retires_on"}
    spec = catalog.get_model("openai/gpt-4o")  # this process dropped its copy on commit
    assert (spec.price_input, spec.retires_on, spec.source) == (
        Decimal("2.00"),
        date(2027, 2, 1),
        "staff",
    )


def test_an_unchanged_edit_writes_nothing():
    before = model()
    assert llm_model_update(model=before, price_input=Decimal("2.5")) == {}
    assert model().updated_at == before.updated_at and model().source == "seed"


def test_create_gives_the_providers_default_limits():
    created = llm_model_create(name="gemini/gemini-9", price_input=Decimal("1"))
    assert (created.provider, created.direct_model, created.max_pages) == (
        "gemini",
        "gemini-9",
        1000,
    )
    with pytest.raises(InvalidModelChange, match="name"):
        llm_model_create(name="mistral/large")
