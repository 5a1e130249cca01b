"""The simulator accepts every catalog model name (#11 §6): each model of the catalog answers
through its provider's official SDK gateway, by inline document, and is listed by the simulator."""

import httpx

from llm import catalog
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.llm.invoice import PDF
from tests.llm.test_gateways_simulator import SCHEMA, make_gateway


def test_every_catalog_model_answers_through_the_simulator(simulator):
    specs = [s for s in catalog.all_specs() if s.enabled]
    assert len(specs) >= 18
    gateways = {p: make_gateway(p, simulator) for p in catalog.PROVIDERS}
    for spec in specs:
        generation = gateways[spec.provider].generate(
            GenerationRequest(
                model=spec.name,
                instructions="Extract the fields of this invoice as JSON.",
                schema=SCHEMA,
                transport="inline",
                path=PDF,
                filename=PDF.name,
            )
        )
        validate_generation(generation, SCHEMA)
        assert generation.simulated, spec.name
    served = {r["model"] for r in simulator.requests(operation="generate")}
    assert {s.direct_model for s in specs} <= served


KEYS = {"Authorization": "Bearer sim-key", "x-api-key": "sim-key", "x-goog-api-key": "sim-key"}


def listing(url: str) -> dict:
    response = httpx.get(url, headers={**KEYS, "anthropic-version": "2023-06-01"})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_simulator_lists_the_catalogs_models(simulator):
    openai = listing(simulator.openai_base_url + "/models")["data"]
    anthropic = listing(simulator.anthropic_base_url + "/v1/models")["data"]
    gemini = listing(simulator.gemini_base_url + "/v1beta/models")["models"]
    listed = {
        "openai": [m["id"] for m in openai],
        "anthropic": [m["id"] for m in anthropic],
        "gemini": [m["name"].removeprefix("models/") for m in gemini],
    }
    for spec in catalog.all_specs():
        if spec.source == "seed":
            assert spec.direct_model in listed[spec.provider], spec.name
