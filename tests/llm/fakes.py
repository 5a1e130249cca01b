"""Fakes of the outside world for unit tests of the policy layer: gateways and the file cache."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.cache import cache

from llm import secrets
from llm.gateways.base import Gateway
from llm.types import Generation, GenerationRequest, RemoteFile, Usage

SCHEMA = {
    "type": "object",
    "properties": {"invoice_number": {"type": ["string", "null"]}, "total": {"type": "number"}},
    "required": ["invoice_number", "total"],
    "additionalProperties": False,
}
GOOD = {"invoice_number": "INV-1", "total": 12.5}


def answer(data=GOOD, **kwargs) -> Generation:
    kwargs.setdefault("usage", Usage(input_tokens=1000, output_tokens=100))
    return Generation(text=json.dumps(data), model="fake", **kwargs)


class FakeGateway(Gateway):
    """Answers from a script: each item is a Generation to return or an exception to raise."""

    def __init__(self, route: str, name: str, script=(), upload_script=()):
        self.route = route
        self.name = name
        self.script = list(script)
        self.upload_script = list(upload_script)
        self.requests: list[GenerationRequest] = []
        self.uploads: list[str] = []
        self.deleted: list[str] = []

    def upload(self, path: Path, filename: str, mime: str, *, model: str) -> RemoteFile:
        step = self.upload_script.pop(0) if self.upload_script else None
        if isinstance(step, BaseException):
            raise step
        remote = RemoteFile(id=f"file-{self.name}-{len(self.uploads) + 1}", bytes=10)
        self.uploads.append(remote.id)
        return remote

    def delete(self, remote_id: str, *, model: str) -> None:
        self.deleted.append(remote_id)

    def generate(self, request: GenerationRequest) -> Generation:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else answer()
        if isinstance(step, BaseException):
            raise step
        return step

    def health(self) -> tuple[bool, str]:
        return True, "fake"


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
