import pytest


@pytest.fixture(autouse=True)
def _model_catalog_table(db):
    """The model catalog is a table (llm.LLMModel): every llm test may read it."""
