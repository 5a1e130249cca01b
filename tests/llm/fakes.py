"""Fakes for unit tests of the policy layer: the file cache, and the settings they run under
(the fake gateway: tests/fixtures/gateways.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache

from llm import secrets
from llm.types import RemoteFile


@dataclass
class MemoryFileCache:
    """The FileCache protocol over a dict, recording what happened."""

    held: dict = field(default_factory=dict)
    gone: list = field(default_factory=list)
    uploads: int = 0

    def get_or_upload(
        self, *, route: str, provider: str, model: str, upload: Callable[[], RemoteFile]
    ) -> RemoteFile:
        key = (route, provider)
        if key not in self.held:
            self.held[key] = upload()
            self.uploads += 1
        return self.held[key]

    def mark_gone(self, *, route: str, provider: str, remote_id: str) -> None:
        self.gone.append((route, provider, remote_id))
        if self.held.get((route, provider)) and self.held[(route, provider)].id == remote_id:
            del self.held[(route, provider)]


@pytest.fixture
def llm_settings(settings):
    """Fast, deterministic policy settings; a clean breaker cache and secret cache."""
    settings.LITELLM_BASE_URL = "http://proxy.invalid"
    settings.LITELLM_API_KEY = "sk-test-proxy-key-000"
    settings.OPENAI_API_KEY = "sk-test-openai-key-000"
    settings.GEMINI_API_KEY = "AIzaTestGeminiKey000000"
    settings.ANTHROPIC_API_KEY = "sk-ant-test-anthropic-000"
    settings.LLM_SECRETS_ID = ""
    settings.LLM_RETRY_ATTEMPTS = 3
    settings.LLM_RETRY_BASE_SECONDS = 0.01
    settings.LLM_MAX_RETRY_WAIT_SECONDS = 30
    settings.LLM_BREAKER_FAILURES = 5
    settings.LLM_BREAKER_COOLOFF_SECONDS = 60
    settings.LLM_CALL_DEADLINE_SECONDS = 300
    settings.LLM_DEFAULT_FALLBACKS = []
    cache.clear()
    secrets.clear_cache()
    yield settings
    cache.clear()
    secrets.clear_cache()
