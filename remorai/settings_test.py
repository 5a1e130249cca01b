"""Test settings: the real settings with fast hashing and private media per run."""

import os
import tempfile
from pathlib import Path

from remorai.settings import *  # noqa: F403
from remorai.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="remorai-test-media-")
# Commands that keep notes under VAR_DIR (local-admin.txt) write them here, not in var/.
VAR_DIR = Path(tempfile.mkdtemp(prefix="remorai-test-var-"))
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media/"},
    },
}
# Throttling is tested on purpose, with its own rates; elsewhere it would only add noise.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "100000/min"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# No collectstatic in tests: serve static files from the finders, no "No directory" warning.
WHITENOISE_AUTOREFRESH = True
# Runs executed in-process inside a test's transaction: the heartbeat thread's own connection
# cannot see the test's uncommitted run, so a beat would "lose" the lease on a loaded machine
# where a run outlasts the interval. Processes started by tests (qcluster) set their own.
EXTRACTION_HEARTBEAT_SECONDS = float(os.environ.get("EXTRACTION_HEARTBEAT_SECONDS", 300))
