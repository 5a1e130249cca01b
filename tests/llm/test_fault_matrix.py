"""The policy's fault matrix through real HTTP: llm.service.extract against the simulator.

The "proxy" route is our LiteLLMProxy gateway pointed at the simulator's OpenAI-compatible path
(the real proxy's matrix lives with the real-peer tests); the "direct" route is the OpenAI SDK
gateway at the simulator. Proxy calls name the model "openai/gpt-4o", direct ones "gpt-4o", so a
fault with model="openai/gpt-4o" hits the proxy route only.
"""

import socket
import time
from pathlib import Path

import pytest

from llm import service
from llm.errors import OutputTruncated, QuotaExceeded, RequestRejected
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")

PDF = Path(__file__).resolve().parents[2] / "tests/fixtures/pdfs/good/camelot-example.pdf"
SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
    "required": ["invoice_number", "total"],
    "additionalProperties": False,
}
PROXY_MODEL = "openai/gpt-4o"  # what the proxy route sends
DIRECT_MODEL = "gpt-4o"  # what the direct route sends


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def routes(settings, simulator):
    """Both routes at the simulator; the test narrows them as needed."""
    settings.LITELLM_BASE_URL = simulator.url + "/openai"
    settings.LITELLM_API_KEY = "sk-fault-matrix-proxy-0000"
    settings.OPENAI_BASE_URL = simulator.openai_base_url
    settings.OPENAI_API_KEY = "sk-fault-matrix-openai-0000"
    settings.GEMINI_API_KEY = ""
    settings.ANTHROPIC_API_KEY = ""
    settings.LLM_RETRY_BASE_SECONDS = 0.05
    settings.LLM_TIMEOUT_SECONDS = 10
    return settings


@pytest.fixture(params=["proxy", "direct"])
def route(request, routes):
    """Run the test once with only the proxy route, once with only the direct route."""
    if request.param == "proxy":
        routes.OPENAI_API_KEY = ""
    else:
        routes.LITELLM_BASE_URL = ""
    return request.param


def settle(simulator, count):
    """Wait until the simulator has logged `count` delayed requests the client gave up on.

    The simulator logs a request when it answers it; an answer we timed out on comes later and
    must not land in the next test's log.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len([r for r in calls(simulator) if r.get("fault") == "delay"]) >= count:
            return
        time.sleep(0.1)
    raise AssertionError("the delayed requests never finished")


def extract(files=None, **kwargs):
    params = {
        "path": PDF,
        "filename": PDF.name,
        "page_count": 1,
        "size_bytes": PDF.stat().st_size,
        "instructions": "Extract the invoice number and the total.",
        "schema": SCHEMA,
        "model": "openai/gpt-4o",
        "files": files or MemoryFileCache(),
    }
    params.update(kwargs)
    return service.extract(**params)


def calls(simulator, operation="generate", model=None):
    return [
        r
        for r in simulator.requests(provider="openai")
        if r["operation"] == operation and (model is None or r["model"] == model)
    ]


def test_proxy_down_falls_back_to_direct(routes, simulator):
    routes.LITELLM_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    outcome = extract()
    assert outcome.route == "direct" and outcome.generation.simulated
    proxy_attempts = [a for a in outcome.attempts if a.route == "proxy"]
    assert [a.outcome for a in proxy_attempts] == ["retry", "retry", "fallback"]
    assert len(calls(simulator)) == 1


def test_proxy_misconfigured_for_the_model_falls_back_to_direct(routes, simulator):
    simulator.fault(
        provider="openai",
        operation="generate",
        status=400,
        message="Invalid model name passed in model=openai/gpt-4o",
        model=PROXY_MODEL,
        count=None,
    )
    outcome = extract()
    assert outcome.route == "direct"
    assert [r["model"] for r in calls(simulator)] == [PROXY_MODEL, DIRECT_MODEL]


def test_two_server_errors_then_success_on_the_third_call(route, simulator):
    simulator.fault(provider="openai", operation="generate", status=500, count=2)
    outcome = extract()
    assert outcome.route == route
    assert [r["status"] for r in calls(simulator)] == [500, 500, 200]
    generates = [a for a in outcome.attempts if a.operation == "generate"]
    assert [(a.outcome, a.http_status) for a in generates] == [
        ("retry", 500),
        ("retry", 500),
        ("ok", None),
    ]


def test_429_with_retry_after_waits_that_long(route, simulator):
    simulator.fault(provider="openai", operation="generate", status=429, retry_after=2)
    outcome = extract()
    assert outcome.route == route
    log = calls(simulator)
    assert len(log) == 2, simulator.requests()
    first, second = log
    assert first["status"] == 429 and second["status"] == 200
    assert second["time"] - first["time"] >= 2.0


def test_quota_429_is_one_call_and_no_fallback(routes, simulator):
    simulator.fault(provider="openai", operation="generate", status=429, quota=True, count=None)
    with pytest.raises(QuotaExceeded) as caught:
        extract(fallback_models=["openai/gpt-4o-mini"])
    assert len(calls(simulator)) == 1
    assert [a.outcome for a in caught.value.attempts] == ["ok", "failed"]


def test_400_is_one_call_and_no_fallback(routes, simulator):
    simulator.fault(
        provider="openai",
        operation="generate",
        status=400,
        message="Invalid schema for response_format 'extraction'",
        count=None,
    )
    with pytest.raises(RequestRejected) as caught:
        extract(fallback_models=["openai/gpt-4o-mini"])
    assert caught.value.http_status == 400
    assert len(calls(simulator)) == 1


def test_timeout_falls_back(routes, simulator):
    routes.LLM_TIMEOUT_SECONDS = 0.5
    routes.LLM_RETRY_ATTEMPTS = 2
    simulator.fault("delay", provider="openai", operation="generate", delay=2, model=PROXY_MODEL)
    simulator.fault("delay", provider="openai", operation="generate", delay=2, model=PROXY_MODEL)
    started = time.monotonic()
    outcome = extract()
    assert outcome.route == "direct"
    assert time.monotonic() - started < 5
    timed_out = [a for a in outcome.attempts if a.route == "proxy" and a.operation == "generate"]
    assert [a.outcome for a in timed_out] == ["retry", "fallback"]
    settle(simulator, 2)
    assert sorted(r["model"] for r in calls(simulator)) == [DIRECT_MODEL, PROXY_MODEL, PROXY_MODEL]


def test_timeout_on_the_last_route_falls_back_to_the_next_model(routes, simulator):
    routes.OPENAI_API_KEY = ""
    routes.LLM_TIMEOUT_SECONDS = 0.5
    routes.LLM_RETRY_ATTEMPTS = 1
    simulator.fault("delay", provider="openai", operation="generate", delay=2, model=PROXY_MODEL)
    outcome = extract(fallback_models=["openai/gpt-4o-mini"])
    assert outcome.model_used == "openai/gpt-4o-mini" and outcome.route == "proxy"
    settle(simulator, 1)


@pytest.mark.parametrize("kind", ["malformed_json", "schema_violation"])
def test_unusable_answer_gets_one_repair_turn(route, simulator, kind):
    simulator.fault(kind, provider="openai", operation="generate")
    outcome = extract()
    assert outcome.repaired and outcome.route == route
    assert set(outcome.data) == {"invoice_number", "total"}
    assert [(a.operation, a.outcome) for a in outcome.attempts[-2:]] == [
        ("generate", "invalid_output"),
        ("repair", "ok"),
    ]
    assert len(calls(simulator)) == 2


def test_a_truncated_answer_fails_without_a_repair_turn(route, simulator):
    simulator.fault("truncated", provider="openai", operation="generate")
    with pytest.raises(OutputTruncated):
        extract()
    assert len(calls(simulator)) == 1


def test_expired_file_is_uploaded_again_once(route, simulator):
    files = MemoryFileCache()
    extract(files=files)
    first_id = next(iter(files.held.values())).id
    assert simulator.expire("openai") >= 1
    outcome = extract(files=files)
    assert files.gone == [(route, "openai", first_id)]
    assert next(iter(files.held.values())).id != first_id
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("generate", "file_gone"),
        ("upload", "ok"),
        ("generate", "ok"),
    ]
    assert len(calls(simulator, "upload")) == 2


@pytest.fixture
def direct_only(routes, simulator):
    routes.LITELLM_BASE_URL = ""
    routes.GEMINI_BASE_URL = simulator.gemini_base_url
    routes.GEMINI_API_KEY = "AIzaFaultMatrixGeminiKey000"
    routes.ANTHROPIC_BASE_URL = simulator.anthropic_base_url
    routes.ANTHROPIC_API_KEY = "sk-ant-fault-matrix-0000"
    return routes


def test_gemini_retry_delay_is_honoured(direct_only, simulator):
    simulator.fault(provider="gemini", operation="generate", status=429, retry_delay="2s")
    outcome = extract(model="gemini/gemini-2.5-flash")
    assert outcome.route == "direct" and outcome.provider == "gemini"
    log = [r for r in simulator.requests(provider="gemini") if r["operation"] == "generate"]
    assert [r["status"] for r in log] == [429, 200]
    assert log[1]["time"] - log[0]["time"] >= 2.0


def test_anthropic_overloaded_529_is_retried(direct_only, simulator):
    simulator.fault(provider="anthropic", operation="generate", status=529)
    outcome = extract(model="anthropic/claude-haiku-4-5")
    assert outcome.provider == "anthropic"
    log = [r for r in simulator.requests(provider="anthropic") if r["operation"] == "generate"]
    assert [r["status"] for r in log] == [529, 200]


def test_a_gone_gemini_file_403_is_uploaded_again(direct_only, simulator):
    files = MemoryFileCache()
    extract(files=files, model="gemini/gemini-2.5-flash")
    assert simulator.expire("gemini") >= 1
    outcome = extract(files=files, model="gemini/gemini-2.5-flash")
    assert [(a.operation, a.outcome, a.http_status) for a in outcome.attempts][0] == (
        "generate",
        "file_gone",
        403,
    )
    assert outcome.data is not None
