"""Fixtures the extraction tests share."""

import pytest


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
