"""Fixtures the extraction tests share."""

import pytest

from extraction import queue
from extraction.services import execution
from tests.extraction.pipeline import FakeExtract, make_document


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
def fake(monkeypatch):
    """The run services call this FakeExtract instead of llm.service.extract."""
    fake = FakeExtract()
    monkeypatch.setattr(execution, "_llm_extract", fake)
    return fake


@pytest.fixture
def document(user):
    return make_document(user)
