import socket

import pytest
from django.core.management import CommandError, call_command

from llm import health
from llm.errors import RetryableError
from llm.types import Generation
from remorai.health import READINESS_CHECKS
from tests.fixtures.gateways import FakeGateway
from tests.llm.fakes import llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(*args):
    from io import StringIO

    out = StringIO()
    try:
        call_command("llm_check", *args, stdout=out)
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_nothing_configured_exits_non_zero(settings):
    settings.LITELLM_BASE_URL = ""
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"):
        setattr(settings, name, "")
    code, out = check()
    assert code == 1
    assert "no OPENAI_API_KEY" in out and "No configured route can serve" in out
    assert "openai/gpt-5 retires on 2026-12-11; use openai/gpt-6-sol" in out  # within 30 days
    assert "openai/gpt-5: openai/gpt-5" not in out  # the model named once
    assert "anthropic/claude-sonnet-4-5" not in out  # retired: never checked, never called


def test_profiles_on_retired_or_retiring_models_are_flagged(settings):
    from extraction.models import ExtractionProfile

    settings.LITELLM_BASE_URL = ""
    ExtractionProfile.objects.create(
        slug="legacy",
        name="Legacy",
        instructions="x",
        schema={"type": "object"},
        default_model="openai/gpt-5",
        fallback_models=["anthropic/claude-sonnet-4-5", "openai/gpt-6-sol"],
    )
    code, out = check()
    assert (
        "profile legacy uses anthropic/claude-sonnet-4-5, which retired on 2026-11-30 "
        "(replacement: anthropic/claude-sonnet-4-6)" in out
    )
    assert "profile legacy uses openai/gpt-5, which retires on 2026-12-11" in out
    assert "gpt-6-sol, which" not in out
    assert "profile invoice" not in out  # the seeded profiles were moved off 4-5


def test_table_lists_every_route_with_key_and_reachability(settings, gateways):
    settings.ANTHROPIC_API_KEY = ""
    for provider in ("openai", "anthropic"):
        gateways.script("proxy", provider, healthy=False)
    code, out = check("--model", "openai/gpt-4o", "--model", "anthropic/claude-haiku-4-5")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["MODEL", "ROUTE", "KEY", "REACHABLE", "DETAIL"]
    rows = {tuple(line.split()[:4]) for line in lines[1:5]}
    assert ("openai/gpt-4o", "proxy", "yes", "no") in rows
    assert ("openai/gpt-4o", "direct", "yes", "yes") in rows
    assert ("anthropic/claude-haiku-4-5", "direct", "no", "-") in rows
    assert "1 of 4 routes can serve" in out


def test_live_makes_one_tiny_completion_per_route(settings, gateways):
    settings.LITELLM_BASE_URL = ""
    openai = gateways.script(
        "direct", "openai", Generation(text='{"ok": true}', model="m", simulated=True)
    )
    gateways.script("direct", "gemini", RetryableError("overloaded", http_status=503))
    code, out = check("--live", "--model", "openai/gpt-4o", "--model", "gemini/gemini-2.5-flash")
    assert code == 0
    assert "LIVE" in out.splitlines()[0]
    assert "(simulated)" in out and "HTTP 503 provider_retryable" in out
    request = openai.requests[0]
    assert request.transport == "inline" and request.path.name == "llm-check.pdf"


def test_live_failure_everywhere_exits_non_zero(settings, gateways):
    settings.LITELLM_BASE_URL = ""
    gateways.use(FakeGateway(script=[Generation(text="no", model="m")]))
    code, out = check("--live", "--model", "openai/gpt-4o")
    assert code == 1 and "invalid_json" in out


def test_proxy_down_is_reported_unreachable_through_the_real_gateway(settings):
    settings.LITELLM_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    settings.OPENAI_API_KEY = ""
    code, out = check("--model", "openai/gpt-4o")
    assert code == 1
    assert "unreachable" in out


def test_proxy_readiness_check_is_registered_and_cached(settings, monkeypatch):
    calls = []

    def fake_health():
        calls.append(1)
        return False, "down"

    monkeypatch.setattr(health, "proxy_health", fake_health)
    health.clear_cache()
    settings.LITELLM_BASE_URL = "http://proxy.invalid"
    health.register_readiness()
    try:
        assert READINESS_CHECKS["proxy"] is health.proxy_check
        ok, details = READINESS_CHECKS["proxy"]()
        READINESS_CHECKS["proxy"]()
        assert len(calls) == 1  # cached for a few seconds
        assert details["proxy_ready"] is False
        assert ok is True and "openai" in details["direct_fallback"]  # degraded, still serving
        health.clear_cache()
        for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"):
            setattr(settings, name, "")
        assert READINESS_CHECKS["proxy"]()[0] is False
    finally:
        settings.LITELLM_BASE_URL = ""
        health.register_readiness()
        health.clear_cache()
    assert "proxy" not in READINESS_CHECKS


@pytest.mark.django_db
def test_readyz_reports_the_proxy(client, settings, monkeypatch):
    monkeypatch.setattr(health, "proxy_health", lambda: (True, "ready (litellm 1.108.7)"))
    health.clear_cache()
    settings.LITELLM_BASE_URL = "http://proxy.invalid"
    health.register_readiness()
    try:
        body = client.get("/readyz").json()
    finally:
        settings.LITELLM_BASE_URL = ""
        health.register_readiness()
        health.clear_cache()
    assert body["checks"]["proxy"]["proxy_ready"] is True
