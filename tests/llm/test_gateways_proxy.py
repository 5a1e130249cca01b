"""LiteLLMProxy as a unit: the wire format it sends and how it reads answers (respx), and proof
that uploads and inline requests stream the file from disk (a real local HTTP server)."""

from __future__ import annotations

import base64
import json
import threading
import tracemalloc
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import respx

from llm.errors import FileGone, QuotaExceeded, RetryableError, RouteUnavailable
from llm.gateways.litellm_proxy import LiteLLMProxy
from llm.types import GenerationRequest, RemoteFile

BASE = "http://proxy.test"
SCHEMA = {
    "type": "object",
    "properties": {"total": {"type": ["number", "null"]}},
    "required": ["total"],
    "additionalProperties": False,
}


@pytest.fixture
def proxy():
    return LiteLLMProxy(base_url=BASE, api_key="sk-proxy-test-key", timeout=5)


@pytest.fixture
def pdf(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path


def completion(content='{"total": 12.5}', **extra):
    return {
        "id": "chatcmpl-1",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 30, "total_tokens": 1230},
        **extra,
    }  # fmt: skip


def request_for(file_id="file-abc", **kwargs):
    kwargs.setdefault("file", RemoteFile(id=file_id, bytes=10) if file_id else None)
    return GenerationRequest(
        model="openai/gpt-4o", instructions="Extract.", schema=SCHEMA, **kwargs
    )


@respx.mock
def test_upload_posts_multipart_with_purpose_and_model(proxy, pdf):
    route = respx.post(f"{BASE}/v1/files").respond(
        200, json={"id": "file-bGl0ZWxsbTpmaWxlLTE7bW9kZWwsb3BlbmFpL2dwdC00bw==", "bytes": 10}
    )
    remote = proxy.upload(pdf, "doc.pdf", "application/pdf", model="openai/gpt-4o")
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer sk-proxy-test-key"
    body = sent.content
    assert b'name="purpose"\r\n\r\nuser_data' in body
    assert b'name="model"\r\n\r\nopenai/gpt-4o' in body
    assert b'filename="doc.pdf"' in body and pdf.read_bytes() in body
    assert remote.id.startswith("file-") and remote.bytes == 10
    assert remote.expires_at is None


@respx.mock
def test_gemini_upload_expires_after_48_hours(proxy, pdf):
    respx.post(f"{BASE}/v1/files").respond(200, json={"id": "file-g", "bytes": 5,
                                                      "created_at": 1_800_000_000})  # fmt: skip
    remote = proxy.upload(pdf, "doc.pdf", "application/pdf", model="gemini/gemini-2.5-flash")
    assert remote.expires_at.timestamp() == 1_800_000_000 + 48 * 3600


@respx.mock
def test_generate_by_file_id_sends_file_part_with_format_and_json_schema(proxy):
    route = respx.post(f"{BASE}/v1/chat/completions").respond(
        200,
        json=completion(),
        headers={
            "x-litellm-response-cost": "0.00315",
            "x-litellm-call-id": "call-1",
            "llm_provider-x-request-id": "req-up-1",
        },
    )
    generation = proxy.generate(request_for())
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "openai/gpt-4o"
    part, text = sent["messages"][0]["content"]
    assert part == {"type": "file", "file": {"file_id": "file-abc", "format": "application/pdf"}}
    assert text == {"type": "text", "text": "Extract."}
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "extraction", "schema": SCHEMA, "strict": True},
    }
    assert json.loads(generation.text) == {"total": 12.5}
    assert generation.cost_usd == Decimal("0.00315")
    assert generation.usage.input_tokens == 1200 and generation.usage.output_tokens == 30
    assert next(iter(generation.request_ids.values())) == "call-1"
    assert generation.request_ids["llm_provider-x-request-id"] == "req-up-1"
    assert generation.finish_reason == "stop"
    assert generation.simulated is False


@respx.mock
def test_generate_sends_followups_and_reads_tool_call_answers(proxy):
    message = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "t", "type": "function",
         "function": {"name": "json_tool_call", "arguments": '{"total": 3}'}}]}  # fmt: skip
    route = respx.post(f"{BASE}/v1/chat/completions").respond(
        200, json={"choices": [{"message": message, "finish_reason": "tool_calls"}]}
    )
    followups = (
        {"role": "assistant", "content": "{"},
        {"role": "user", "content": "Fix the JSON."},
    )
    generation = proxy.generate(request_for(followups=followups))
    assert json.loads(route.calls.last.request.content)["messages"][1:] == list(followups)
    assert json.loads(generation.text) == {"total": 3}
    assert generation.cost_usd is None


@respx.mock
def test_answer_marked_by_the_simulator_is_simulated(proxy):
    respx.post(f"{BASE}/v1/chat/completions").respond(
        200, json=completion(), headers={"llm_provider-x-simulator": "remorai"}
    )
    assert proxy.generate(request_for()).simulated is True


@respx.mock
def test_gemini_answer_from_the_simulator_is_simulated_without_the_header(proxy):
    """LiteLLM drops Gemini's response headers; the simulator's id still marks the answer."""
    body = completion()
    body["id"] = "sim-8NRwbWeEonCDJg9o9Lgd"
    respx.post(f"{BASE}/v1/chat/completions").respond(200, json=body)
    assert proxy.generate(request_for()).simulated is True


@respx.mock
def test_inline_transport_sends_the_file_as_a_base64_data_url(proxy, pdf):
    route = respx.post(f"{BASE}/v1/chat/completions").respond(200, json=completion())
    proxy.generate(request_for(file_id=None, transport="inline", path=pdf, filename="a.pdf"))
    sent = route.calls.last.request
    body = json.loads(sent.content)
    assert int(sent.headers["Content-Length"]) == len(sent.content)
    part = body["messages"][0]["content"][0]
    assert part["file"]["filename"] == "a.pdf"
    prefix, payload = part["file"]["file_data"].split(",", 1)
    assert prefix == "data:application/pdf;base64"
    assert base64.b64decode(payload) == pdf.read_bytes()


@respx.mock
def test_file_gone_on_404_for_the_file(proxy):
    respx.post(f"{BASE}/v1/chat/completions").respond(
        404, json={"error": {"message": "File not found", "type": "None", "code": "404"}}
    )
    with pytest.raises(FileGone) as info:
        proxy.generate(request_for())
    assert info.value.http_status == 404


@respx.mock
def test_429_carries_retry_after_and_quota_is_not_retryable(proxy):
    respx.post(f"{BASE}/v1/chat/completions").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "3"},
                           json={"error": {"message": "rate", "type": "throttling_error",
                                           "code": "429"}}),
            httpx.Response(429, json={"error": {"message": "insufficient_quota",
                                                "type": "insufficient_quota", "code": "429"}}),
        ]
    )  # fmt: skip
    with pytest.raises(RetryableError) as info:
        proxy.generate(request_for())
    assert info.value.retry_after == 3.0
    with pytest.raises(QuotaExceeded):
        proxy.generate(request_for())


@respx.mock
def test_unknown_model_at_the_proxy_is_route_unavailable(proxy):
    respx.post(f"{BASE}/v1/chat/completions").respond(
        400,
        json={"error": {"message": "/chat/completions: Invalid model name passed in model=x",
                        "type": "None", "code": "400"}},
    )  # fmt: skip
    with pytest.raises(RouteUnavailable):
        proxy.generate(request_for())


@respx.mock
def test_timeouts_and_refused_connections_are_retryable(proxy):
    respx.post(f"{BASE}/v1/chat/completions").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.ConnectError("refused")]
    )
    with pytest.raises(RetryableError) as slow:
        proxy.generate(request_for())
    with pytest.raises(RetryableError) as refused:
        proxy.generate(request_for())
    assert (slow.value.reason, refused.value.reason) == ("timeout", "connection_error")


@respx.mock
def test_delete_tolerates_a_file_already_gone(proxy):
    route = respx.delete(url__startswith=f"{BASE}/v1/files/").mock(
        side_effect=[
            httpx.Response(200, json={"id": "raw-provider-id", "deleted": True}),
            httpx.Response(404, json={"error": {"message": "not found", "code": "404"}}),
        ]
    )
    proxy.delete("file-bGl0ZWxsbTpmaWxlLTE7bW9kZWw=", model="openai/gpt-4o")
    proxy.delete("file-bGl0ZWxsbTpmaWxlLTE7bW9kZWw=", model="openai/gpt-4o")
    assert route.calls[0].request.url.path == "/v1/files/file-bGl0ZWxsbTpmaWxlLTE7bW9kZWw="


@respx.mock
def test_delete_raises_other_errors(proxy):
    respx.delete(url__startswith=f"{BASE}/v1/files/").respond(503)
    with pytest.raises(RetryableError):
        proxy.delete("file-x", model="")


@respx.mock
def test_health_reads_readiness_without_auth(proxy):
    route = respx.get(f"{BASE}/health/readiness").respond(
        200, json={"status": "connected", "litellm_version": "1.108.7"}
    )
    assert proxy.health() == (True, "ready (litellm 1.108.7)")
    assert "Authorization" not in route.calls.last.request.headers
    route.respond(503)
    ok, detail = proxy.health()
    assert not ok and "503" in detail


def test_health_when_the_proxy_is_down():
    ok, detail = LiteLLMProxy(base_url="http://127.0.0.1:9", api_key="k").health()
    assert not ok and "unreachable" in detail


def test_repr_never_shows_the_key(proxy):
    assert "sk-proxy-test-key" not in repr(proxy)


# --- streaming from disk, measured ---------------------------------------------------------------


class _Drain(BaseHTTPRequestHandler):
    """Reads the body in small chunks and throws it away; answers with the byte count."""

    def do_POST(self):  # noqa: N802
        remaining = int(self.headers["Content-Length"])
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 65536)))
        if self.path.endswith("/files"):
            payload = {"id": "file-big", "bytes": int(self.headers["Content-Length"])}
        else:
            payload = completion()
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def drain_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Drain)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.pdf"
    with path.open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    return path


LIMIT = 16 * 1024 * 1024  # far below the 200 MB file (and its 267 MB base64)


def test_upload_streams_the_file_and_never_holds_it_whole(drain_server, big_file):
    gateway = LiteLLMProxy(base_url=drain_server, api_key="k", timeout=60)
    tracemalloc.start()
    try:
        remote = gateway.upload(big_file, "big.pdf", "application/pdf", model="openai/gpt-4o")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert remote.bytes > 200 * 1024 * 1024
    assert peak < LIMIT, f"peak {peak / 1e6:.1f} MB"


def test_inline_request_streams_the_base64_and_never_holds_it_whole(drain_server, big_file):
    gateway = LiteLLMProxy(base_url=drain_server, api_key="k", timeout=60)
    tracemalloc.start()
    try:
        generation = gateway.generate(
            request_for(file_id=None, transport="inline", path=big_file, filename="big.pdf")
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert json.loads(generation.text) == {"total": 12.5}
    assert peak < LIMIT, f"peak {peak / 1e6:.1f} MB"
