"""llm.batches over the official SDKs against the simulator: submit items referencing uploaded
files, poll, stream the results (each a Generation at the batch price, or an LLMError), cancel;
jobs split within the provider's limits on requests and bytes."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from llm import batches
from llm.batches import BatchItem
from llm.cost import model_cost_with_source
from llm.errors import RetryableError
from llm.gateways import get_gateway
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.llm.invoice import INSTRUCTIONS, PDF, expected_answer
from tests.llm.invoice import SCHEMA_WITH_PO as SCHEMA

MODELS = {
    "openai": "openai/gpt-4o",
    "gemini": "gemini/gemini-2.5-flash",
    "anthropic": "anthropic/claude-haiku-4-5",
}


@pytest.fixture
def sim(direct_to_simulator):
    return direct_to_simulator


def items(provider: str, keys) -> list[BatchItem]:
    remote = get_gateway("direct", provider).upload(PDF, PDF.name, "application/pdf")
    request = GenerationRequest(
        model=MODELS[provider], instructions=INSTRUCTIONS, schema=SCHEMA, file=remote
    )
    return [BatchItem(key=key, request=request) for key in keys]


def submit_all(provider: str, batch_items) -> list:
    jobs = []
    for job_input in batches.prepare(
        provider=provider, model=MODELS[provider], items=iter(batch_items)
    ):
        with job_input:
            jobs.append((batches.submit(job_input), list(job_input.keys())))
            assert job_input.path.exists()
        assert not job_input.path.exists()  # the temporary input is gone with the job sent
    return jobs


@pytest.mark.parametrize("provider", list(MODELS))
def test_a_batch_answers_each_item_at_the_batch_price(sim, provider):
    sim.batches(delay=60, fail_ids=["run-2"], fail_status=400)
    [(job, keys)] = submit_all(provider, items(provider, ["run-1", "run-2", "run-3"]))
    assert keys == ["run-1", "run-2", "run-3"]
    assert (job.provider, job.model, job.route) == (provider, MODELS[provider], "direct")
    assert batches.poll(job).status == batches.RUNNING
    sim.batches(delay=0)  # the job ends now

    deadline = time.monotonic() + 10
    while not (state := batches.poll(job)).finished:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state.status == batches.ENDED

    results = {r.key: r for r in batches.results(job)}
    assert sorted(results) == keys
    answered = results["run-1"].generation
    assert validate_generation(answered, SCHEMA) == expected_answer(SCHEMA)
    assert answered.simulated
    full, _ = model_cost_with_source(job.model, answered.usage)
    assert answered.cost_source == "catalog"
    assert abs(answered.cost_usd - full / 2) <= Decimal("0.000001")
    assert results["run-2"].generation is None
    assert results["run-2"].error.http_status == 400


@pytest.mark.parametrize("provider", list(MODELS))
def test_an_expired_batch_gives_every_item_back_as_an_error(sim, provider):
    sim.batches(expire=True)
    [(job, _keys)] = submit_all(provider, items(provider, ["a", "b"]))
    assert batches.poll(job).status == batches.EXPIRED
    errors = [r.error for r in batches.results(job)]
    # OpenAI and Anthropic list the expired items; Gemini gives no output for an expired job
    assert all(isinstance(e, RetryableError) for e in errors)
    assert len(errors) == (0 if provider == "gemini" else 2)


@pytest.mark.parametrize("provider", list(MODELS))
def test_cancel_a_batch(sim, provider):
    sim.batches(delay=60)
    [(job, _keys)] = submit_all(provider, items(provider, ["a"]))
    batches.cancel(job)
    assert batches.poll(job).status == batches.CANCELLED


def test_jobs_split_within_the_limits_on_requests_and_bytes(sim, settings):
    settings.LLM_BATCH_LIMITS = {"openai": {"requests": 2, "bytes": 10_000_000}}
    jobs = submit_all("openai", items("openai", [f"r{i}" for i in range(5)]))
    assert [keys for _job, keys in jobs] == [["r0", "r1"], ["r2", "r3"], ["r4"]]

    gateway = get_gateway("direct", "openai")
    line = batches._backend("openai").line(gateway, items("openai", ["x"])[0])
    size = len(json.dumps(line, separators=(",", ":")))  # room for two lines, not three
    settings.LLM_BATCH_LIMITS = {"openai": {"requests": 100, "bytes": 2 * size + 10}}
    jobs = submit_all("openai", items("openai", [f"b{i}" for i in range(5)]))
    assert [len(keys) for _job, keys in jobs] == [2, 2, 1]
    assert len(sim.requests(provider="openai", operation="batch_create")) == 6
