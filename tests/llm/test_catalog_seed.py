"""The catalog's seed (migration llm.0002) and the move of the seeded profiles off retired models
(extraction.0010): current models from the installed SDKs, today's entries kept."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import anthropic
import pytest
from anthropic._data.deprecated_models import DEPRECATED_MODELS
from openai.types.shared import chat_model

from extraction.models import ExtractionProfile
from llm import catalog
from llm.models import LLMModel

pytestmark = pytest.mark.django_db

PREVIOUS_SETTINGS_TABLE = [
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/gpt-4.1",
    "openai/gpt-5",
    "gemini/gemini-2.5-flash",
    "gemini/gemini-2.5-pro",
    "gemini/gemini-3-pro",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-sonnet-4-6",
    "anthropic/claude-haiku-4-5",
]


def test_every_model_the_settings_table_had_is_still_there():
    assert set(PREVIOUS_SETTINGS_TABLE) <= set(LLMModel.objects.values_list("name", flat=True))


def test_each_provider_has_a_current_flagship_and_a_cheap_model():
    for provider in ("openai", "gemini", "anthropic"):
        current = [
            s
            for s in catalog.all_specs()
            if s.provider == provider and s.retires_on is None and s.price_input is not None
        ]
        prices = sorted(s.price_input for s in current)
        assert len(current) >= 2, provider
        assert prices[0] <= Decimal("0.25") and prices[-1] >= Decimal("2"), provider


def test_seeded_openai_and_anthropic_models_are_the_sdks_own_ids():
    openai_ids = set(chat_model.ChatModel.__args__)
    anthropic_ids = set(anthropic.types.Model.__args__[0].__args__)
    for spec in catalog.all_specs():
        if spec.provider == "openai":
            assert spec.direct_model in openai_ids, spec.name
        if spec.provider == "anthropic":
            assert spec.direct_model in anthropic_ids, spec.name


def test_anthropic_retirement_dates_match_the_sdks_deprecation_data():
    months = {"November": 11, "January": 1, "June": 6}
    for spec in catalog.all_specs():
        if spec.provider != "anthropic":
            continue
        sdk_date = DEPRECATED_MODELS.get(spec.direct_model)
        if sdk_date is None:
            assert spec.retires_on is None, spec.name
            continue
        month, day, year = sdk_date.replace(",", "").split()
        expected = date(int(year), months[month], int(day.rstrip("stndrh")))
        assert spec.retires_on == expected, spec.name


def test_openai_shutdown_dates_come_from_the_sdk():
    doc = Path(chat_model.__file__).read_text()
    assert '"gpt-5", "gpt-5-mini"' in doc and "2026-12-11" in doc
    assert catalog.get_model("openai/gpt-5").retires_on == date(2026, 12, 11)
    assert catalog.get_model("openai/gpt-4o").retires_on == date(2027, 1, 14)


def test_every_retiring_model_names_a_current_replacement():
    for spec in catalog.all_specs():
        if spec.retires_on is not None:
            replacement = catalog.get_model(spec.replacement)
            assert replacement.retires_on is None, spec.name


def test_claude_sonnet_4_5_is_retired_today_and_the_seeded_profiles_moved_off_it():
    assert catalog.get_model("anthropic/claude-sonnet-4-5").is_retired(date(2026, 11, 30))
    for slug in ("invoice", "summary"):
        profile = ExtractionProfile.objects.get(slug=slug)
        models = [profile.default_model, *profile.fallback_models]
        assert "anthropic/claude-sonnet-4-5" not in models
        assert "anthropic/claude-sonnet-4-6" in models


def test_the_profile_migration_moves_an_existing_database_and_bumps_the_version():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("extraction.migrations.0010_profiles_off_retired_models")
    profile = ExtractionProfile.objects.get(slug="invoice")
    ExtractionProfile.objects.filter(pk=profile.pk).update(
        fallback_models=["openai/gpt-4o", "anthropic/claude-sonnet-4-5"], version=3
    )
    migration.forwards(apps, None)
    profile.refresh_from_db()
    assert profile.fallback_models == ["openai/gpt-4o", "anthropic/claude-sonnet-4-6"]
    assert profile.version == 4
    migration.forwards(apps, None)  # idempotent
    profile.refresh_from_db()
    assert profile.version == 4
