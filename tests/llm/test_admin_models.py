"""The model admin: list with retirement and last 30 days, edits through the service, sync."""

from decimal import Decimal

import pytest
from django.urls import reverse

from extraction.models import ExtractionProfile
from llm import catalog
from llm.models import LLMModel


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(username="ops", password="pw-ops-123")


@pytest.fixture
def admin(client, staff):
    client.force_login(staff)
    return client


def test_the_list_shows_retirement_usage_and_flags_profiles(admin):
    ExtractionProfile.objects.create(
        slug="legacy",
        name="Legacy",
        instructions="x",
        schema={"type": "object"},
        default_model="openai/gpt-4o",
        fallback_models=["anthropic/claude-sonnet-4-5"],
    )
    response = admin.get(reverse("admin:llm_llmmodel_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "retired 2026-11-30" in page  # claude-sonnet-4-5
    assert "in 11 days" in page  # openai/gpt-5, 2026-12-11
    assert "profile legacy uses anthropic/claude-sonnet-4-5" in page
    assert "runs (30 d)" in page.lower() and "cost (30 d, usd)" in page.lower()


def test_the_change_page_renders(admin):
    pk = LLMModel.objects.get(name="openai/gpt-4o").pk
    response = admin.get(reverse("admin:llm_llmmodel_change", args=[pk]))
    assert response.status_code == 200
    assert "overridden by llm_models_json" in response.content.decode().lower()


def form_data(model: LLMModel, **changes):
    data = {
        "direct_model": model.direct_model,
        "enabled": "on" if model.enabled else "",
        "max_pages": model.max_pages,
        "max_bytes": model.max_bytes,
        "max_input_tokens": model.max_input_tokens or "",
        "max_output_tokens": model.max_output_tokens or "",
        "price_input": model.price_input,
        "price_output": model.price_output,
        "price_document": model.price_document or "",
        "batch_discount": model.batch_discount,
        "retires_on": model.retires_on or "",
        "replacement": model.replacement_id or "",
    }
    data.update(changes)
    return data


def test_an_edit_goes_through_the_service_and_is_read_at_once(admin):
    model = LLMModel.objects.get(name="openai/gpt-4o")
    url = reverse("admin:llm_llmmodel_change", args=[model.pk])
    response = admin.post(url, form_data(model, price_input="1.75"))
    assert response.status_code == 302
    assert catalog.get_model("openai/gpt-4o").price_input == Decimal("1.75")
    assert LLMModel.objects.get(pk=model.pk).source == "staff"


def test_an_invalid_edit_is_refused_with_the_reason(admin):
    model = LLMModel.objects.get(name="openai/gpt-4o")
    url = reverse("admin:llm_llmmodel_change", args=[model.pk])
    response = admin.post(url, form_data(model, price_input="-1", max_pages="0"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "must be ≥ 0" in page and "must be &gt; 0" in page or "must be > 0" in page
    assert LLMModel.objects.get(pk=model.pk).price_input == Decimal("2.50")


def test_models_are_never_deleted_from_the_admin(admin):
    pk = LLMModel.objects.get(name="openai/gpt-4o").pk
    assert admin.get(reverse("admin:llm_llmmodel_delete", args=[pk])).status_code == 403


def test_the_sync_action_needs_its_permission(client, django_user_model, settings):
    from django.contrib.auth.models import Permission

    settings.LITELLM_BASE_URL = ""
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_llmmodel"]))
    client.force_login(user)
    page = client.get(reverse("admin:llm_llmmodel_changelist")).content.decode()
    assert "sync_from_proxy" not in page
    user.user_permissions.add(Permission.objects.get(codename="sync_models"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    page = client.get(reverse("admin:llm_llmmodel_changelist")).content.decode()
    assert "sync_from_proxy" in page
    pk = LLMModel.objects.first().pk
    response = client.post(
        reverse("admin:llm_llmmodel_changelist"),
        {"action": "sync_from_proxy", "_selected_action": [pk]},
        follow=True,
    )
    assert "LITELLM_BASE_URL is not set" in response.content.decode()


def test_the_profile_list_flags_retired_and_retiring_models(admin):
    ExtractionProfile.objects.create(
        slug="legacy",
        name="Legacy",
        instructions="x",
        schema={"type": "object"},
        default_model="openai/gpt-5",
        fallback_models=["anthropic/claude-sonnet-4-5"],
    )
    page = admin.get(reverse("admin:extraction_extractionprofile_changelist")).content.decode()
    assert "openai/gpt-5 retires 2026-12-11" in page
    assert "anthropic/claude-sonnet-4-5 retired 2026-11-30" in page
