"""Fixtures the extraction tests share."""

import pytest
from django.core.cache import cache

from extraction import queue
from tests.extraction.pipeline import make_document, run_answer
from tests.fixtures.gateways import FakeGateway


@pytest.fixture
def storage_dir(tmp_path, settings):
    """Default storage on a fresh local folder, so a test can see every file intake writes."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def temp_dir(tmp_path, settings):
    """Django's upload temp folder on a fresh local folder, so a test can see leftovers."""
    path = tmp_path / "tmp"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


@pytest.fixture
def enqueued(monkeypatch):
    """Records the run ids the run services hand to the queue, instead of queueing them."""
    ids = []
    monkeypatch.setattr(queue, "enqueue_task", ids.append)
    return ids


@pytest.fixture
def fake(gateways, settings):
    """The provider behind every route of a run: llm.service.extract runs as in production, and
    each gateway it asks for is this one FakeGateway (the `gateways` seam), answering
    pipeline.run_answer(). With the proxy configured, the first route is proxy:gemini."""
    settings.LITELLM_BASE_URL = "http://proxy.invalid"
    settings.LLM_RETRY_BASE_SECONDS = 0
    cache.clear()  # circuit breakers start closed
    yield gateways.use(FakeGateway("proxy", "litellm", default_answer=run_answer()))
    cache.clear()


@pytest.fixture
def document(user):
    return make_document(user)
