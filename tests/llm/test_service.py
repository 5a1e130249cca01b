import time
from pathlib import Path

import pytest

from llm import service
from llm.errors import (
    BadOutput,
    Cancelled,
    DeadlineExceeded,
    FileGone,
    NoRouteAvailable,
    NoRouteFits,
    OutputTruncated,
    QuotaExceeded,
    RequestRejected,
    RetryableError,
    RetryLater,
    RouteUnavailable,
)
from llm.types import Generation
from tests.fixtures.gateways import GOOD, SCHEMA, answer
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")
PDF = Path(__file__)  # any file: fake gateways never read it


def extract(files=None, **kwargs):
    params = {
        "path": PDF,
        "filename": "invoice.pdf",
        "page_count": 2,
        "size_bytes": 1000,
        "instructions": "Extract the invoice.",
        "schema": SCHEMA,
        "model": "openai/gpt-4o",
        "files": files or MemoryFileCache(),
    }
    params.update(kwargs)
    return service.extract(**params)


def test_success_on_the_proxy_uploads_once_and_validates(gateways):
    proxy = gateways.script("proxy", "openai", answer())
    files = MemoryFileCache()
    seen = []
    outcome = extract(files=files, on_attempt=seen.append)
    assert outcome.data == GOOD
    assert (outcome.route, outcome.provider, outcome.model_used) == (
        "proxy",
        "openai",
        "openai/gpt-4o",
    )
    assert not outcome.repaired
    assert [a.operation for a in outcome.attempts] == ["upload", "generate"]
    assert list(outcome.attempts) == seen
    assert proxy.requests[0].file.id == "file-litellm-1"
    assert proxy.requests[0].schema == SCHEMA and proxy.requests[0].timeout
    assert files.uploads == 1


def test_a_cached_remote_file_is_reused(gateways):
    proxy = gateways.script("proxy", "openai", answer(), answer())
    files = MemoryFileCache()
    extract(files=files)
    outcome = extract(files=files)
    assert [a.operation for a in outcome.attempts] == ["generate"]
    assert proxy.uploads == ["file-litellm-1"]


def test_inline_transport_uploads_nothing(gateways):
    proxy = gateways.script("proxy", "openai", answer())
    outcome = extract(transport="inline")
    assert proxy.uploads == []
    request = proxy.requests[0]
    assert request.transport == "inline" and request.path == PDF and request.file is None
    assert [a.operation for a in outcome.attempts] == ["generate"]


def test_proxy_down_falls_back_to_direct(gateways):
    gateways.script("proxy", "openai", uploads=[RouteUnavailable("connection refused")])
    gateways.script("direct", "openai", answer())
    outcome = extract()
    assert outcome.route == "direct"
    assert [(a.route, a.operation, a.outcome) for a in outcome.attempts] == [
        ("proxy", "upload", "fallback"),
        ("direct", "upload", "ok"),
        ("direct", "generate", "ok"),
    ]


def test_fallback_model_after_both_routes_fail(gateways):
    gateways.script("proxy", "openai", *[RetryableError(http_status=503)] * 3)
    gateways.script("direct", "openai", *[RetryableError(http_status=503)] * 3)
    gateways.script("proxy", "gemini", answer())
    outcome = extract(fallback_models=["gemini/gemini-2.5-flash"])
    assert outcome.model_used == "gemini/gemini-2.5-flash" and outcome.route == "proxy"


def test_the_requests_own_400_fails_without_fallback(gateways):
    gateways.script("proxy", "openai", RequestRejected("bad schema", http_status=400))
    direct = gateways.script("direct", "openai", answer())
    with pytest.raises(RequestRejected) as caught:
        extract()
    assert direct.requests == []
    assert [a.outcome for a in caught.value.attempts] == ["ok", "failed"]


def test_quota_refusal_fails_without_fallback(gateways):
    gateways.script("proxy", "openai", QuotaExceeded("insufficient_quota", http_status=429))
    direct = gateways.script("direct", "openai", answer())
    with pytest.raises(QuotaExceeded):
        extract()
    assert direct.requests == []


def test_invalid_json_gets_one_repair_turn(gateways):
    proxy = gateways.script("proxy", "openai", Generation(text="{oops", model="m"), answer())
    outcome = extract()
    assert outcome.repaired and outcome.data == GOOD
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("upload", "ok"),
        ("generate", "invalid_output"),
        ("repair", "ok"),
    ]
    followups = proxy.requests[1].followups
    assert followups[0] == {"role": "assistant", "content": "{oops"}
    assert "invalid JSON" in followups[1]["content"]
    assert proxy.requests[1].file == proxy.requests[0].file


def test_truncated_output_fails_at_once_without_a_repair_turn(gateways):
    cut = Generation(text='{"invoice_number": "A"', model="m", finish_reason="length")
    proxy = gateways.script("proxy", "openai", cut, answer())
    direct = gateways.script("direct", "openai", answer())
    with pytest.raises(OutputTruncated) as caught:
        extract()
    assert len(proxy.requests) == 1 and direct.requests == []
    assert caught.value.code == "output_truncated" and "segments" in caught.value.detail
    assert caught.value.raw_text == '{"invoice_number": "A"'


def test_still_invalid_after_repair_raises_bad_output_with_raw_text(gateways):
    gateways.script("proxy", "openai", answer({"total": 1}), answer({"total": "x"}))
    direct = gateways.script("direct", "openai", answer())
    with pytest.raises(BadOutput) as caught:
        extract()
    assert '"total": "x"' in caught.value.raw_text
    assert "after one repair turn" in caught.value.detail
    assert len(caught.value.attempts) == 3
    assert direct.requests == []


def test_gone_file_is_marked_and_uploaded_again_once(gateways):
    proxy = gateways.script("proxy", "openai", FileGone("no such file", http_status=404), answer())
    files = MemoryFileCache()
    outcome = extract(files=files)
    assert files.gone == [("proxy", "openai", "file-litellm-1")]
    assert proxy.uploads == ["file-litellm-1", "file-litellm-2"]
    assert proxy.requests[1].file.id == "file-litellm-2"
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("upload", "ok"),
        ("generate", "file_gone"),
        ("upload", "ok"),
        ("generate", "ok"),
    ]


def test_repair_after_a_reupload_uses_the_fresh_file(gateways):
    proxy = gateways.script(
        "proxy",
        "openai",
        FileGone("gone", http_status=404),
        Generation(text="{oops", model="m"),
        answer(),
    )
    files = MemoryFileCache()
    outcome = extract(files=files)
    assert outcome.repaired
    ids = [r.file.id for r in proxy.requests]
    assert ids == ["file-litellm-1", "file-litellm-2", "file-litellm-2"]
    assert len(files.gone) == 1


def test_file_gone_twice_falls_back(gateways):
    gateways.script(
        "proxy", "openai", FileGone("gone", http_status=404), FileGone("gone", http_status=404)
    )
    gateways.script("direct", "openai", answer())
    assert extract().route == "direct"


def test_long_retry_after_tries_other_routes_then_asks_to_retry_later(gateways):
    gateways.script(
        "proxy", "openai", RetryableError("slow down", http_status=429, retry_after=900)
    )
    gateways.script(
        "direct", "openai", RetryableError("slow down", http_status=429, retry_after=600)
    )
    with pytest.raises(RetryLater) as caught:
        extract()
    assert caught.value.attempts  # both routes tried
    remaining = caught.value.at.timestamp() - time.time()
    assert 590 < remaining < 610  # the earliest of the two


def test_every_route_failing_is_no_route_available(gateways):
    gateways.script("proxy", "openai", *[RetryableError(http_status=500)] * 3)
    gateways.script("direct", "openai", RequestRejected("bad key", http_status=401))
    with pytest.raises(NoRouteAvailable) as caught:
        extract()
    assert "proxy:openai/gpt-4o" in caught.value.detail
    assert "direct:openai/gpt-4o" in caught.value.detail
    assert len(caught.value.attempts) == 1 + 3 + 1 + 1  # two uploads, 3 proxy calls, 1 direct


def test_should_continue_false_cancels_between_calls(gateways):
    gateways.script("proxy", "openai", *[RetryableError(http_status=500)] * 3)
    answers = iter([True, True, False])
    with pytest.raises(Cancelled) as caught:
        extract(should_continue=lambda: next(answers, False))
    assert caught.value.attempts


def test_cancel_is_noticed_between_retries_of_one_route(gateways):
    proxy = gateways.script("proxy", "openai", *[RetryableError(http_status=500)] * 3)
    answers = iter([True, True])  # before the route, before the generate; then False
    with pytest.raises(Cancelled) as caught:
        extract(should_continue=lambda: next(answers, False))
    assert len(proxy.requests) == 1
    assert [a.outcome for a in caught.value.attempts] == ["ok", "retry"]


def test_a_passed_deadline_stops_the_extraction(gateways):
    gateways.script("proxy", "openai", answer())
    with pytest.raises(DeadlineExceeded):
        extract(deadline=time.time() - 1)


def test_document_too_large_for_every_model_raises_with_attempts(gateways):
    with pytest.raises(NoRouteFits) as caught:
        extract(page_count=5000)
    assert caught.value.attempts == ()


def test_default_fallbacks_apply_when_none_are_named(gateways, settings):
    settings.LLM_DEFAULT_FALLBACKS = ["anthropic/claude-haiku-4-5"]
    gateways.script("proxy", "openai", uploads=[RouteUnavailable("down")])
    gateways.script("direct", "openai", uploads=[RouteUnavailable("down")])
    outcome = extract()
    assert outcome.model_used == "anthropic/claude-haiku-4-5"


def test_direct_generation_gets_its_cost_from_the_catalog(gateways, settings):
    settings.LITELLM_BASE_URL = ""
    gateways.script("direct", "openai", answer())
    outcome = extract()
    assert outcome.generation.cost_usd is not None and outcome.generation.cost_usd > 0
    # Priced once: the answer and its attempt carry the same cost and source.
    generate = next(a for a in outcome.attempts if a.operation == "generate")
    assert (
        (generate.cost_usd, generate.cost_source)
        == (
            outcome.generation.cost_usd,
            outcome.generation.cost_source,
        )
        == (outcome.generation.cost_usd, "catalog")
    )
