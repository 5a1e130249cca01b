from datetime import date

import pytest


@pytest.fixture(autouse=True)
def _model_catalog_table(db):
    """The model catalog is a table (llm.LLMModel): every llm test may read it."""


@pytest.fixture(autouse=True)
def _today_is_the_seed_date(monkeypatch):
    """Retirement depends on the date: llm tests run on 2026-11-30, the day the seed was written
    for (claude-sonnet-4-5 retired that day, gpt-5 retires 11 days later)."""
    from llm import catalog

    monkeypatch.setattr(catalog, "today", lambda: date(2026, 11, 30))


# --- The official SDKs against the simulator (sdk tier: test_sdks_real, test_simulator_batches_sdk)


@pytest.fixture
def sim(simulator):
    simulator.reset()
    return simulator


@pytest.fixture
def openai_client(sim):
    import openai

    with openai.OpenAI(
        api_key="sk-fake-openai-sdk-test", base_url=sim.openai_base_url, max_retries=0, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anthropic_client(sim):
    import anthropic

    with anthropic.Anthropic(
        api_key="sk-ant-fake-sdk-test", base_url=sim.anthropic_base_url, max_retries=0, timeout=30
    ) as client:
        yield client


@pytest.fixture
def genai_client(sim):
    from google import genai
    from google.genai import types as genai_types

    client = genai.Client(
        api_key="fake-gemini-sdk-test",
        http_options=genai_types.HttpOptions(base_url=sim.gemini_base_url, timeout=30_000),
    )
    yield client
    client.close()
