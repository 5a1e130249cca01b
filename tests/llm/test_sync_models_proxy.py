"""sync_models against the REAL LiteLLM proxy, configured with models the seed lacks: after the
sync they are in the catalog (limits and prices from the proxy, or unknown prices) and an
extraction with one of them succeeds through the proxy."""

from __future__ import annotations

from io import StringIO

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command

from extraction.models import ExtractionRun
from extraction.services.runs import extraction_run_enqueue
from llm.gateways import reset_gateways
from llm.models import LLMModel
from tests.extraction.pipeline import INVOICE_PDF, make_document, seeded_profile
from tests.fixtures import litellm as litellm_fixtures
from tests.fixtures.litellm import (
    PRODUCTION_CONFIG,
    require_litellm_venv,
    simulator_config,
    start_proxy,
    stop_proxy,
)

pytestmark = [pytest.mark.proxy, pytest.mark.django_db]

NEW = "anthropic/claude-opus-4-8"  # in LiteLLM's cost map, not in our seed
UNPRICED = "gemini/gemini-unlisted-exp"  # an upstream id LiteLLM's cost map lacks


@pytest.fixture(scope="module")
def proxy_with_new_models(simulator_server, tmp_path_factory):
    require_litellm_venv()
    production = yaml.safe_load(PRODUCTION_CONFIG.read_text())
    for name in (NEW, UNPRICED):
        provider = name.partition("/")[0]
        key = f"os.environ/{provider.upper()}_API_KEY"
        production["model_list"].append(
            {"model_name": name, "litellm_params": {"model": name, "api_key": key}}
        )
    config = simulator_config(
        production,
        api_bases={
            "openai": simulator_server.openai_base_url,
            "gemini": simulator_server.gemini_base_url,
            "anthropic": simulator_server.anthropic_base_url,
        },
    )
    # a second proxy beside the session's: on a loaded machine its start-up can be slow
    litellm_fixtures.START_TIMEOUT = max(litellm_fixtures.START_TIMEOUT, 240)
    process, server = start_proxy(config, tmp_path_factory.mktemp("litellm-sync"))
    try:
        yield server
    finally:
        stop_proxy(process)


@pytest.fixture
def through_proxy(settings, proxy_with_new_models, simulator):
    settings.LITELLM_BASE_URL = proxy_with_new_models.url
    settings.LITELLM_API_KEY = proxy_with_new_models.key
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"):
        setattr(settings, name, "")  # the proxy is the only route
    cache.clear()
    reset_gateways()
    yield simulator
    reset_gateways()


def sync(*args) -> str:
    out = StringIO()
    call_command("sync_models", *args, stdout=out)
    return out.getvalue()


def test_sync_adds_the_proxys_new_models_and_an_extraction_with_one_succeeds(
    through_proxy, user, django_capture_on_commit_callbacks
):
    assert not LLMModel.objects.filter(name__in=[NEW, UNPRICED]).exists()

    dry = sync("--dry-run")
    assert f"create    {NEW}" in dry and "Dry run, nothing written" in dry
    assert not LLMModel.objects.filter(name=NEW).exists()

    out = sync()
    assert f"create    {NEW}" in out and f"create    {UNPRICED}" in out
    new = LLMModel.objects.get(name=NEW)
    assert (new.source, new.provider, new.direct_model) == ("proxy", "anthropic", "claude-opus-4-8")
    assert new.price_input is not None and new.price_input > 0  # from the proxy's cost map
    assert new.max_output_tokens and new.max_pages == 100  # our provider default
    unpriced = LLMModel.objects.get(name=UNPRICED)
    assert unpriced.price_input is None and unpriced.enabled  # usable, prices unknown
    assert "create 0, update 0 of" in sync()  # a second sync changes nothing

    profile = seeded_profile("invoice")
    document = make_document(user, INVOICE_PDF)
    with django_capture_on_commit_callbacks(execute=True):
        run = extraction_run_enqueue(
            document=document, profile=profile, model=NEW, trigger="command"
        )
    run = ExtractionRun.objects.get(pk=run.pk)
    assert run.status == ExtractionRun.Status.SUCCEEDED, (run.error_code, run.error_message)
    assert (run.route, run.model_used) == ("proxy", NEW)
    assert run.cost_source == "proxy" and run.cost_usd is not None  # the proxy's own cost
    generates = through_proxy.requests(provider="anthropic", operation="generate")
    assert generates and generates[-1]["model"] == "claude-opus-4-8"
