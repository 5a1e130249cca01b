"""sync_models against the proxy's answers (shapes as LiteLLM 1.108 sends them; the real proxy
runs in tests/llm/test_sync_models_proxy.py)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from llm import catalog
from llm.models import LLMModel
from llm.sync import sync_models


class FakeProxy:
    def __init__(self, info, listed=()):
        self.info, self.listed = info, list(listed)

    def served_models(self):
        return self.info, self.listed


def info(name, upstream, **model_info):
    return {"model_name": name, "litellm_params": {"model": upstream}, "model_info": model_info}


KNOWN = info(
    "openai/gpt-4o",
    "openai/gpt-4o",
    max_input_tokens=128000,
    max_output_tokens=16384,
    input_cost_per_token=2e-06,
    output_cost_per_token=1e-05,
    input_cost_per_token_batches=1e-06,
)
NEW = info(
    "anthropic/claude-opus-4-8",
    "anthropic/claude-opus-4-8",
    max_input_tokens=1000000,
    max_output_tokens=128000,
    input_cost_per_token=5e-06,
    output_cost_per_token=2.5e-05,
)
UNPRICED = info(
    "gemini/gemini-x", "gemini/gemini-x-exp", input_cost_per_token=None, max_output_tokens=None
)


def test_new_models_are_created_known_ones_updated_nothing_deleted():
    before = LLMModel.objects.count()
    changes = {c.name: c for c in sync_models(gateway=FakeProxy([KNOWN, NEW, UNPRICED]))}
    assert changes["anthropic/claude-opus-4-8"].action == "create"
    created = LLMModel.objects.get(name="anthropic/claude-opus-4-8")
    assert (created.source, created.direct_model, created.max_pages) == (
        "proxy",
        "claude-opus-4-8",
        100,
    )
    assert (created.price_input, created.price_output) == (Decimal("5"), Decimal("25"))
    assert created.max_output_tokens == 128000

    gpt4o = LLMModel.objects.get(name="openai/gpt-4o")
    assert changes["openai/gpt-4o"].action == "update"
    assert set(changes["openai/gpt-4o"].fields) >= {"price_input", "max_input_tokens"}
    assert (gpt4o.price_input, gpt4o.batch_discount, gpt4o.source) == (
        Decimal("2"),
        Decimal("0.5"),
        "proxy",
    )
    assert gpt4o.retires_on is not None  # retirement is ours: never changed by a sync

    unpriced = catalog.get_model("gemini/gemini-x")  # usable with unknown prices
    assert (unpriced.price_input, unpriced.direct_model) == (None, "gemini-x-exp")
    assert LLMModel.objects.count() == before + 2


def test_a_second_sync_changes_nothing():
    sync_models(gateway=FakeProxy([KNOWN, NEW]))
    again = sync_models(gateway=FakeProxy([KNOWN, NEW]))
    assert {c.action for c in again} == {"unchanged"}


def test_dry_run_reports_and_writes_nothing():
    before = list(LLMModel.objects.values_list("name", "price_input", "updated_at"))
    changes = sync_models(dry_run=True, gateway=FakeProxy([KNOWN, NEW]))
    assert {c.action for c in changes} == {"create", "update"}
    assert list(LLMModel.objects.values_list("name", "price_input", "updated_at")) == before


def test_names_outside_our_providers_are_skipped_and_v1_models_alone_is_enough():
    listed = [{"id": "openai/gpt-6-sol", "max_output_tokens": 64000}, {"id": "fast"}]
    changes = {c.name: c for c in sync_models(gateway=FakeProxy([], listed))}
    assert changes["fast"].action == "skip"
    assert changes["openai/gpt-6-sol"].fields == {"max_output_tokens": (128000, 64000)}


def test_the_command_needs_a_proxy(settings):
    settings.LITELLM_BASE_URL = ""
    with pytest.raises(CommandError, match="LITELLM_BASE_URL"):
        call_command("sync_models", stdout=StringIO())


def test_the_daily_task_is_scheduled_and_skips_without_a_proxy(settings):
    from django_q.models import Schedule

    from llm.tasks import sync_models_daily

    schedule = Schedule.objects.get(name="sync-models")
    assert (schedule.func, schedule.schedule_type) == ("llm.tasks.sync_models_daily", "D")
    settings.LITELLM_BASE_URL = ""
    assert sync_models_daily().startswith("skipped")
