"""llm.batches through the real LiteLLM proxy's /v1/files (purpose=batch) and /v1/batches in
front of the simulator (OpenAI): the job reaches the provider, each item is answered with the
document referenced by the provider's own file id (the proxy does not translate ids inside the
input file), results come back through the proxy; other providers' jobs go direct."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from llm import batches
from llm.batches import BatchItem
from llm.batches.proxy import provider_file_id
from llm.gateways import get_gateway, reset_gateways
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.llm.invoice import INSTRUCTIONS, PDF, expected_answer
from tests.llm.invoice import SCHEMA_WITH_PO as SCHEMA

pytestmark = pytest.mark.proxy
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def proxied(litellm_proxy, simulator, settings):
    settings.LITELLM_BASE_URL = litellm_proxy.url
    settings.LITELLM_API_KEY = litellm_proxy.key
    settings.LLM_SECRETS_ID = ""
    cache.clear()
    reset_gateways()
    yield simulator
    reset_gateways()


def wait_finished(job) -> batches.BatchState:
    deadline = time.monotonic() + 20
    while not (state := batches.poll(job)).finished:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return state


def test_an_openai_batch_through_the_proxy(proxied):
    sim = proxied
    assert batches.batch_route("openai") == "proxy"
    assert batches.batch_route("anthropic") == "direct"  # the proxy has no batch API for it
    remote = get_gateway("proxy", "openai").upload(PDF, PDF.name, "application/pdf", model=MODEL)
    assert provider_file_id(remote.id).startswith("file-sim")  # the proxy's id wraps the provider's
    request = GenerationRequest(model=MODEL, instructions=INSTRUCTIONS, schema=SCHEMA, file=remote)
    sim.batches(delay=60, fail_ids=["b"], fail_status=400)
    items = [BatchItem(key, request) for key in ("a", "b")]
    [job_input] = batches.prepare(provider="openai", model=MODEL, items=iter(items))
    with job_input:
        job = batches.submit(job_input)
    assert job.route == "proxy" and job.remote_id.startswith("batch_")
    assert batches.poll(job).status == batches.RUNNING
    sim.batches(delay=0)
    assert [e["path"] for e in sim.requests(provider="openai", operation="batch_create")] == [
        "/openai/v1/batches"
    ]
    state = wait_finished(job)
    assert (state.status, state.total, state.succeeded, state.failed) == ("ended", 2, 1, 1)
    results = {r.key: r for r in batches.results(job)}
    assert validate_generation(results["a"].generation, SCHEMA) == expected_answer(SCHEMA)
    assert results["a"].generation.cost_source == "catalog"  # at the batch price, ours
    assert results["b"].error.http_status == 400


def test_cancel_through_the_proxy(proxied):
    sim = proxied
    sim.batches(delay=60)
    remote = get_gateway("proxy", "openai").upload(PDF, PDF.name, "application/pdf", model=MODEL)
    request = GenerationRequest(model=MODEL, instructions=INSTRUCTIONS, schema=SCHEMA, file=remote)
    [job_input] = batches.prepare(provider="openai", model=MODEL, items=[BatchItem("a", request)])
    with job_input:
        job = batches.submit(job_input)
    batches.cancel(job)
    assert wait_finished(job).status == "cancelled"
    assert len(sim.requests(provider="openai", operation="batch_cancel")) == 1


def test_provider_file_id_leaves_other_ids_alone():
    assert provider_file_id("file-abc") == "file-abc"
    assert provider_file_id("files/xyz") == "files/xyz"
