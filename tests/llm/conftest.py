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
