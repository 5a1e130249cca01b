"""Heartbeats from a thread during one long call, and the devserver's environment."""

import time

import pytest

from extraction import queue
from extraction.management.commands.devserver import SIMULATED_KEY, simulated_environment
from extraction.models import ExtractionRun
from extraction.services.execution import extraction_run_execute
from extraction.services.runs import extraction_run_enqueue
from tests.extraction.pipeline import make_document, seeded_profile


@pytest.fixture
def quiet_queue(monkeypatch):
    monkeypatch.setattr(queue, "enqueue_task", lambda run_id: None)


@pytest.mark.django_db(transaction=True)
def test_a_long_call_keeps_heartbeating_and_notices_a_cancel(user, fake, quiet_queue, settings):
    settings.EXTRACTION_HEARTBEAT_SECONDS = 0.1
    run = extraction_run_enqueue(
        document=make_document(user), profile=seeded_profile("invoice"), trigger="api"
    )
    beats = []

    def long_call(request):  # one blocking call; only the thread can beat meanwhile
        for _ in range(5):
            time.sleep(0.15)
            beats.append(ExtractionRun.objects.get(pk=run.pk).heartbeat_at)
        ExtractionRun.objects.filter(pk=run.pk).update(cancel_requested=True)
        time.sleep(0.3)  # the thread sees the flag on its next beat

    fake.before_answer = long_call
    assert extraction_run_execute(run_id=run.pk) == ExtractionRun.Status.CANCELLED
    assert len(set(beats)) >= 3  # the heartbeat moved during the call
    assert beats == sorted(beats)


def test_devserver_simulates_only_providers_without_keys():
    env, simulated = simulated_environment(
        {"GEMINI_API_KEY": "real-gemini-key", "PATH": "/bin"}, "http://127.0.0.1:9"
    )
    assert simulated == ["openai", "anthropic"]
    assert env["OPENAI_API_KEY"] == SIMULATED_KEY
    assert env["OPENAI_BASE_URL"] == "http://127.0.0.1:9/openai/v1"
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/anthropic"
    assert env["GEMINI_API_KEY"] == "real-gemini-key" and "GEMINI_BASE_URL" not in env
    _, none = simulated_environment({"LLM_SECRETS_ID": "prod/llm"}, "http://127.0.0.1:9")
    assert none == []
