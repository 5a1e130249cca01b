"""`reextract --batch` with the LiteLLM proxy as the configured route: OpenAI jobs go through
the real proxy's /v1/batches (documents uploaded through the proxy), and the runs are written
with route "proxy" at the batch price."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from extraction.models import ExtractionAttempt, ExtractionBatch, UploadedFile
from llm.gateways import reset_gateways
from tests.extraction import test_batches as base
from tests.extraction.test_batches import new_runs, poll_until_done, reextract

pytestmark = [pytest.mark.proxy, pytest.mark.django_db]
profile, documents = base.profile, base.documents  # the same fixtures


@pytest.fixture
def proxied(litellm_proxy, simulator, settings):
    settings.LITELLM_BASE_URL = litellm_proxy.url
    settings.LITELLM_API_KEY = litellm_proxy.key
    settings.LLM_SECRETS_ID = ""
    settings.OPENAI_API_KEY = ""  # no direct key: the proxy is the only way
    cache.clear()
    reset_gateways()
    yield simulator
    reset_gateways()


def test_reextract_batch_through_the_proxy(
    proxied,
    profile,
    documents,
    django_capture_on_commit_callbacks,
):
    sim = proxied
    assert "Sent 4 runs as 1 provider batch jobs" in reextract(profile)
    batch = ExtractionBatch.objects.get()
    assert (batch.provider, batch.route) == ("openai", "proxy")
    assert UploadedFile.objects.filter(route="proxy", provider="openai").count() == 4
    poll_until_done(django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    assert (batch.status, batch.succeeded_count) == ("done", 4)
    for run in new_runs():
        assert (run.status, run.route) == ("succeeded", "proxy"), run.error_message
        assert run.result["invoice_number"].startswith("INV-")
    assert set(
        ExtractionAttempt.objects.filter(run__in=new_runs()).values_list("route", flat=True)
    ) == {"proxy"}
    assert len(sim.requests(provider="openai", operation="batch_create")) == 1
    assert not sim.requests(provider="openai", operation="generate")
    # the job's input and output files are deleted through the proxy once collected
    kept = [f["filename"] for f in sim.files() if f["provider"] == "openai" and not f["gone"]]
    assert sorted(kept) == sorted(f"invoice-{n}.pdf" for n in range(4))
