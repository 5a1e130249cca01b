import json
from datetime import date
from decimal import Decimal

import pytest

from llm import catalog
from llm.errors import ModelRetired, NoRouteAvailable, NoRouteFits, UnknownModel
from llm.routing import Route, plan
from tests.llm.fakes import llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")
MB = 1024 * 1024


def shape(routes):
    return [(r.route, r.model) for r in routes]


def test_plan_is_proxy_then_direct_for_the_model_then_each_fallback():
    routes = plan("openai/gpt-4o", ["gemini/gemini-2.5-flash"], 3, MB)
    assert shape(routes) == [
        ("proxy", "openai/gpt-4o"),
        ("direct", "openai/gpt-4o"),
        ("proxy", "gemini/gemini-2.5-flash"),
        ("direct", "gemini/gemini-2.5-flash"),
    ]
    assert routes[0] == Route("proxy", "openai", "openai/gpt-4o", "litellm")
    assert routes[3].gateway == "gemini"


def test_without_proxy_url_the_plan_is_direct_only(settings):
    settings.LITELLM_BASE_URL = ""
    routes = plan("anthropic/claude-sonnet-4-6", ["openai/gpt-4o"], 3, MB)
    assert shape(routes) == [
        ("direct", "anthropic/claude-sonnet-4-6"),
        ("direct", "openai/gpt-4o"),
    ]


def test_a_provider_without_key_has_no_direct_route(settings):
    settings.OPENAI_API_KEY = ""
    routes = plan("openai/gpt-4o", ["gemini/gemini-2.5-flash"], 3, MB)
    assert ("direct", "openai/gpt-4o") not in shape(routes)
    assert ("direct", "gemini/gemini-2.5-flash") in shape(routes)


def test_a_model_too_small_for_the_document_is_skipped():
    routes = plan("openai/gpt-4o", ["gemini/gemini-2.5-flash"], 300, MB)
    assert {r.model for r in routes} == {"gemini/gemini-2.5-flash"}


def test_no_model_fits_names_the_limits():
    with pytest.raises(NoRouteFits) as caught:
        plan("openai/gpt-4o", ["anthropic/claude-sonnet-4-6"], 150, 40 * MB)
    error = caught.value
    assert error.code == "document_too_large_for_models"
    assert "150 pages" in error.detail and "openai/gpt-4o takes at most 100 pages" in error.detail
    assert "32.0 MB" in error.detail
    assert error.fields["limits"][0] == {
        "model": "openai/gpt-4o",
        "max_pages": 100,
        "max_bytes": 32 * MB,
    }


def test_inline_transport_counts_the_base64_overhead():
    size = 30 * MB  # fits as a file, not once base64-encoded (40 MB)
    assert plan("openai/gpt-4o", [], 3, size)
    with pytest.raises(NoRouteFits):
        plan("openai/gpt-4o", [], 3, size, transport="inline")


def test_unknown_model_is_refused_by_name():
    with pytest.raises(UnknownModel) as caught:
        plan("openai/gpt-nonexistent", [], 1, 1)
    assert "openai/gpt-nonexistent" in caught.value.detail


def test_nothing_configured_is_a_clear_error(settings):
    settings.LITELLM_BASE_URL = ""
    settings.OPENAI_API_KEY = ""
    with pytest.raises(NoRouteAvailable) as caught:
        plan("openai/gpt-4o", [], 1, 1)
    assert "LITELLM_BASE_URL" in caught.value.detail and "OPENAI_API_KEY" in caught.value.detail


def test_duplicate_fallbacks_are_tried_once():
    routes = plan("openai/gpt-4o", ["openai/gpt-4o"], 1, 1)
    assert len(routes) == 2


def test_operators_override_the_table_with_llm_models_json(settings):
    settings.LLM_MODELS_JSON = json.loads(
        '{"openai/gpt-9": {"direct_model": "gpt-9-preview", "max_pages": 100, "max_bytes": 1000,'
        ' "price_input": "1", "price_output": "2"}, "openai/gpt-4o": {"max_pages": 5},'
        ' "openai/gpt-4o-mini": null}'
    )
    added = catalog.get_model("openai/gpt-9")
    assert (added.direct_model, added.max_bytes) == ("gpt-9-preview", 1000)
    assert added.source == "settings"
    gpt4o = catalog.get_model("openai/gpt-4o")
    assert gpt4o.max_pages == 5 and gpt4o.overridden == ("max_pages",)
    assert gpt4o.price_input == Decimal("2.50")  # the rest from the table
    with pytest.raises(UnknownModel):
        catalog.get_model("openai/gpt-4o-mini")


def test_the_override_wins_over_a_staff_edit(settings):
    from llm.models import LLMModel

    settings.LLM_MODELS_JSON = {"openai/gpt-4o": {"price_input": "9"}}
    LLMModel.objects.filter(name="openai/gpt-4o").update(price_input="1", price_output="3")
    catalog.invalidate()
    spec = catalog.get_model("openai/gpt-4o")
    assert (spec.price_input, spec.price_output) == (Decimal("9"), Decimal("3"))


def test_issue_model_names_stay_known():
    for name in (
        "openai/gpt-4o",
        "gemini/gemini-2.5-flash",
        "gemini/gemini-3-pro",
        "anthropic/claude-sonnet-4-5",
    ):
        assert catalog.get_model(name).name == name


def test_a_disabled_model_is_unknown():
    from llm.models import LLMModel

    LLMModel.objects.filter(name="openai/gpt-4o").update(enabled=False)
    catalog.invalidate()
    with pytest.raises(UnknownModel, match="disabled"):
        plan("openai/gpt-4o", [], 1, 1)


def test_a_retired_model_is_refused_naming_its_replacement():
    with pytest.raises(ModelRetired) as caught:
        plan("anthropic/claude-sonnet-4-5", ["openai/gpt-4o"], 1, 1)
    error = caught.value
    assert error.code == "model_retired" and error.status_code == 422
    assert error.fields["replacement"] == "anthropic/claude-sonnet-4-6"
    assert error.fields["retired_on"] == "2026-11-30"
    assert "anthropic/claude-sonnet-4-6" in error.detail


def test_a_retired_fallback_is_skipped_and_logged_once_per_process(caplog):
    catalog._skipped_logged.discard("anthropic/claude-sonnet-4-5")
    with caplog.at_level("WARNING", logger="llm.catalog"):
        for _ in range(3):
            routes = plan("openai/gpt-4o", ["anthropic/claude-sonnet-4-5", "gemini/gemini-2.5-pro"])
            assert [r.model for r in routes if r.route == "direct"] == [
                "openai/gpt-4o",
                "gemini/gemini-2.5-pro",
            ]
    skipped = [r for r in caplog.records if "Skipping retired" in r.message]
    assert len(skipped) == 1 and "claude-sonnet-4-6" in skipped[0].getMessage()


def test_a_model_retires_at_the_start_of_its_day(monkeypatch):
    assert plan("openai/gpt-5", [], 1, 1)  # retires on 2026-12-11
    monkeypatch.setattr(catalog, "today", lambda: date(2026, 12, 11))
    with pytest.raises(ModelRetired, match="openai/gpt-6-sol"):
        plan("openai/gpt-5", [], 1, 1)
