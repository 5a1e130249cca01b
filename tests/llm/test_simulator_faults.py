"""Each scripted fault of the simulator, seen over raw HTTP in each provider's own shape."""

import json
import time

import httpx
import jsonschema
import pytest

from tests.llm.test_simulator import (
    ANTHROPIC_AUTH,
    AWS,
    GEMINI_AUTH,
    OPENAI_AUTH,
    SCHEMA,
    anthropic_upload,
    gemini_upload,
    openai_chat,
    openai_upload,
)


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client


def openai_generate(http, simulator, file_id=None):
    part = {
        "type": "file",
        "file": {"file_id": file_id or "file-none", "format": "application/pdf"},
    }
    return http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=openai_chat(part)
    )


def gemini_generate(http, simulator, uri=None, model="gemini-2.5-flash"):
    parts = [{"text": "Extract."}]
    if uri:
        parts.append({"fileData": {"fileUri": uri, "mimeType": "application/pdf"}})
    return http.post(
        f"{simulator.gemini_base_url}/v1beta/models/{model}:generateContent",
        headers=GEMINI_AUTH,
        json={
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": SCHEMA,
            },
        },
    )


def anthropic_generate(http, simulator, file_id=None, output_format=True):
    content = [{"type": "text", "text": "Extract."}]
    if file_id:
        content.insert(0, {"type": "document", "source": {"type": "file", "file_id": file_id}})
    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": content}],
    }
    if output_format:
        payload["output_format"] = {"type": "json_schema", "schema": SCHEMA}
    return http.post(
        simulator.anthropic_base_url + "/v1/messages", headers=ANTHROPIC_AUTH, json=payload
    )


def test_openai_error_with_retry_headers_fires_count_times(http, simulator):
    file_id = openai_upload(http, simulator)["id"]
    simulator.fault(provider="openai", operation="generate", status=500, count=2)
    statuses = [openai_generate(http, simulator, file_id).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]

    simulator.fault(
        provider="openai", operation="generate", status=429, retry_after=2, retry_after_ms=1500
    )
    response = openai_generate(http, simulator, file_id)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "rate_limit_exceeded"
    log = simulator.requests(provider="openai", operation="generate")
    assert [e["status"] for e in log] == [500, 500, 200, 429]
    assert log[0]["fault"] == "error:500" and log[2]["fault"] is None


def test_openai_quota_429_is_insufficient_quota(http, simulator):
    simulator.fault(provider="openai", operation="generate", status=429, quota=True)
    response = openai_generate(http, simulator)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "insufficient_quota"
    assert response.json()["error"]["type"] == "insufficient_quota"


def test_gemini_429_carries_retry_delay_in_details_not_a_header(http, simulator):
    simulator.fault(provider="gemini", operation="generate", status=429, retry_delay="3s")
    response = gemini_generate(http, simulator)
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    error = response.json()["error"]
    assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    delays = [d["retryDelay"] for d in error["details"] if "retryDelay" in d]
    assert delays == ["3s"]


def test_anthropic_529_overloaded(http, simulator):
    simulator.fault(provider="anthropic", operation="generate", status=529)
    response = anthropic_generate(http, simulator)
    assert response.status_code == 529
    body = response.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "overloaded_error", "message": "Overloaded"}


def test_fault_matches_only_its_provider_operation_and_model(http, simulator):
    simulator.fault(
        provider="gemini", operation="generate", model="gemini-3-pro", status=503, count=None
    )
    assert gemini_generate(http, simulator, model="gemini-2.5-flash").status_code == 200
    assert openai_generate(http, simulator, openai_upload(http, simulator)["id"]).status_code == 200
    assert gemini_generate(http, simulator, model="gemini-3-pro").status_code == 503
    assert gemini_generate(http, simulator, model="gemini-3-pro").status_code == 503
    simulator.reset()
    assert gemini_generate(http, simulator, model="gemini-3-pro").status_code == 200


def test_upload_fault_leaves_no_file(http, simulator):
    simulator.fault(provider="openai", operation="upload", status=503)
    with AWS.open("rb") as fh:
        response = http.post(
            simulator.openai_base_url + "/files",
            headers=OPENAI_AUTH,
            files={"file": ("a.pdf", fh, "application/pdf")},
            data={"purpose": "user_data"},
        )
    assert response.status_code == 503
    assert simulator.files() == []
    # the body was still read: the connection stays usable and the bytes are counted
    assert simulator.requests(operation="upload")[0]["bytes_in"] > AWS.stat().st_size
    assert openai_upload(http, simulator)["bytes"] == AWS.stat().st_size


def test_delay_past_the_client_timeout(simulator):
    simulator.fault("delay", provider="openai", operation="generate", delay=1.5)
    with httpx.Client(timeout=0.5) as short, pytest.raises(httpx.ReadTimeout):
        openai_generate(short, simulator)
    with httpx.Client(timeout=5) as patient:
        assert openai_generate(patient, simulator).status_code == 404  # unknown file, no fault


def test_dropped_connection_sends_no_response(http, simulator):
    simulator.fault("drop", provider="anthropic", operation="generate")
    with pytest.raises(httpx.RemoteProtocolError):
        anthropic_generate(http, simulator)
    assert anthropic_generate(http, simulator).status_code == 200
    assert simulator.requests(operation="generate")[0]["fault"] == "drop"


@pytest.mark.parametrize("provider", ["openai", "gemini", "anthropic"])
def test_malformed_and_schema_violating_output(http, simulator, provider):
    def answer_text():
        if provider == "openai":
            body = openai_generate(http, simulator, openai_upload(http, simulator)["id"]).json()
            return body["choices"][0]["message"]["content"], body["choices"][0]["finish_reason"]
        if provider == "gemini":
            body = gemini_generate(http, simulator, gemini_upload(http, simulator)["uri"]).json()
            candidate = body["candidates"][0]
            return candidate["content"]["parts"][0]["text"], candidate["finishReason"]
        body = anthropic_generate(http, simulator, anthropic_upload(http, simulator)["id"]).json()
        return body["content"][0]["text"], body["stop_reason"]

    simulator.fault("malformed_json", provider=provider, operation="generate")
    text, _ = answer_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

    simulator.fault("truncated", provider=provider, operation="generate")
    text, finish = answer_text()
    assert finish in ("length", "MAX_TOKENS", "max_tokens")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

    simulator.fault("schema_violation", provider=provider, operation="generate")
    text, _ = answer_text()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(text), SCHEMA)

    text, _ = answer_text()
    jsonschema.validate(json.loads(text), SCHEMA)


def test_expired_files_answer_gone_in_each_provider_shape(http, simulator):
    openai_id = openai_upload(http, simulator)["id"]
    gemini_file = gemini_upload(http, simulator)
    anthropic_id = anthropic_upload(http, simulator)["id"]
    assert simulator.expire() == 3

    response = openai_generate(http, simulator, openai_id)
    assert response.status_code == 404
    assert openai_id in response.json()["error"]["message"]
    response = gemini_generate(http, simulator, gemini_file["uri"])
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"
    response = anthropic_generate(http, simulator, anthropic_id)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_file_gone_fault_applies_once(http, simulator):
    file_id = openai_upload(http, simulator)["id"]
    simulator.fault("file_gone", provider="openai", operation="generate")
    assert openai_generate(http, simulator, file_id).status_code == 404
    assert openai_generate(http, simulator, file_id).status_code == 200


def test_latency_per_operation(http, simulator):
    simulator.latency(0.4, operation="generate")
    started = time.monotonic()
    openai_upload(http, simulator)
    upload_seconds = time.monotonic() - started
    started = time.monotonic()
    openai_generate(http, simulator)
    generate_seconds = time.monotonic() - started
    assert generate_seconds >= 0.4 and upload_seconds < generate_seconds - 0.2


def test_probability_and_chaos_are_seeded(http, simulator):
    def run():
        simulator.reset()
        simulator.chaos(seed=7, rate=0.5, kinds=["error:500", "error:503"])
        return [gemini_generate(http, simulator).status_code for _ in range(12)]

    first = run()
    assert first == run()
    assert 200 in first and any(s >= 500 for s in first)


def test_gemini_processing_then_active(http, simulator):
    simulator.settings(gemini_processing_polls=1)
    uploaded = gemini_upload(http, simulator)
    assert uploaded["state"] == "PROCESSING"
    response = gemini_generate(http, simulator, uploaded["uri"])
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "FAILED_PRECONDITION"
    url = f"{simulator.gemini_base_url}/v1beta/{uploaded['name']}"
    assert http.get(url, headers=GEMINI_AUTH).json()["state"] == "PROCESSING"
    assert http.get(url, headers=GEMINI_AUTH).json()["state"] == "ACTIVE"
    assert gemini_generate(http, simulator, uploaded["uri"]).status_code == 200


@pytest.mark.parametrize(
    ("provider", "path", "status", "check"),
    [
        (
            "openai",
            "/openai/v1/files",
            401,
            lambda b: b["error"]["type"] == "invalid_request_error",
        ),
        (
            "gemini",
            "/gemini/v1beta/files",
            403,
            lambda b: b["error"]["status"] == "PERMISSION_DENIED",
        ),
        (
            "anthropic",
            "/anthropic/v1/files",
            401,
            lambda b: b["error"]["type"] == "authentication_error",
        ),
    ],
)
def test_missing_key_is_refused_in_provider_shape(http, simulator, provider, path, status, check):
    response = http.get(simulator.url + path)
    assert response.status_code == status
    assert check(response.json())


def test_pinned_keys_refuse_a_wrong_key(http, simulator):
    simulator.settings(
        keys={"openai": "sk-right", "gemini": "gm-right", "anthropic": "sk-ant-right"}
    )
    wrong = http.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    right = http.get(
        simulator.openai_base_url + "/files", headers={"Authorization": "Bearer sk-right"}
    )
    assert right.status_code == 200
    wrong = http.get(simulator.gemini_base_url + "/v1beta/files", headers=GEMINI_AUTH)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert http.get(simulator.gemini_base_url + "/v1beta/files?key=gm-right").status_code == 200
    wrong = http.get(simulator.anthropic_base_url + "/v1/files", headers=ANTHROPIC_AUTH)
    assert wrong.status_code == 401


def test_request_log_hides_keys(http, simulator):
    http.get(simulator.gemini_base_url + "/v1beta/files?key=gm-secret-value")
    http.get(simulator.openai_base_url + "/files", headers={"Authorization": "Bearer sk-secret"})
    dumped = json.dumps(simulator.requests())
    assert "gm-secret-value" not in dumped and "sk-secret" not in dumped


def test_anthropic_requires_its_version_header(http, simulator):
    headers = {k: v for k, v in ANTHROPIC_AUTH.items() if k != "anthropic-version"}
    response = http.get(simulator.anthropic_base_url + "/v1/files", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "anthropic-version: header is required"


def test_fault_after_lets_calls_through_first(http, simulator):
    simulator.fault(provider="gemini", operation="generate", status=500, after=2, count=1)
    statuses = [gemini_generate(http, simulator).status_code for _ in range(4)]
    assert statuses == [200, 200, 500, 200]


def test_openai_strict_schema_rules_are_enforced(http, simulator):
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    payload = openai_chat({"type": "text", "text": "x"}, schema=loose)
    response = http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format"
    assert "'additionalProperties' is required to be supplied and to be false" in error["message"]

    partial = {
        **loose,
        "additionalProperties": False,
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
    }
    response = http.post(
        simulator.openai_base_url + "/chat/completions",
        headers=OPENAI_AUTH,
        json=openai_chat({"type": "text", "text": "x"}, schema=partial),
    )
    assert response.status_code == 400
    assert "Missing 'b'" in response.json()["error"]["message"]


@pytest.mark.parametrize("provider", ["openai", "gemini", "anthropic"])
def test_a_small_output_token_limit_truncates(http, simulator, provider):
    if provider == "openai":
        payload = openai_chat({"type": "text", "text": "Invoice number: 1234567890"})
        payload["max_completion_tokens"] = 3
        body = http.post(
            simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
        ).json()
        assert body["choices"][0]["finish_reason"] == "length"
    elif provider == "gemini":
        body = http.post(
            f"{simulator.gemini_base_url}/v1/models/gemini-2.5-flash:generateContent",
            headers=GEMINI_AUTH,
            json={
                "contents": [{"parts": [{"text": "x"}]}],
                "generationConfig": {
                    "responseMimeType": "application/json",
                    "responseJsonSchema": SCHEMA,
                    "maxOutputTokens": 3,
                },
            },
        ).json()
        assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"
    else:
        body = http.post(
            simulator.anthropic_base_url + "/v1/messages",
            headers=ANTHROPIC_AUTH,
            json={
                "model": "claude-sonnet-4-5",
                "max_tokens": 3,
                "output_format": {"type": "json_schema", "schema": SCHEMA},
                "messages": [{"role": "user", "content": "x"}],
            },
        ).json()
        assert body["stop_reason"] == "max_tokens"


def test_chaos_kinds_accept_fault_dicts_and_529_stays_anthropic(http, simulator):
    simulator.chaos(
        seed=3, rate=1.0, kinds=[{"kind": "error", "status": 429, "retry_after": 4}, "error:529"]
    )
    seen = {}
    for _ in range(8):
        response = gemini_generate(http, simulator)
        seen[response.status_code] = response
    assert set(seen) == {429, 503}
    assert "retryDelay" in json.dumps(seen[429].json())
    response = anthropic_generate(http, simulator)
    assert response.status_code in (429, 529)


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            "'additionalProperties' must be explicitly set to false",
        ),
        (
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"n": {"type": "number", "minimum": 0}},
            },
            "property 'minimum' is not supported",
        ),
        (
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"n": {"oneOf": [{"type": "string"}, {"type": "null"}]}},
            },
            "Schema type 'oneOf' is not supported",
        ),
    ],
)
def test_anthropic_structured_output_refuses_what_the_real_api_refuses(
    http, simulator, schema, problem
):
    response = http.post(
        simulator.anthropic_base_url + "/v1/messages",
        headers=ANTHROPIC_AUTH,
        json={
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "output_config": {"format": {"type": "json_schema", "schema": schema}},
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("output_config.format.schema: ") and problem in message


def test_openai_inline_file_needs_a_filename(http, simulator):
    part = {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}}
    response = http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=openai_chat(part)
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "missing_required_parameter"
    assert error["param"] == "messages[0].content[1].file.file_id"


def test_page_limits_per_request(http, simulator, tmp_path):
    from tests.pdfgen import blank_pdf

    big = tmp_path / "pages101.pdf"
    big.write_bytes(blank_pdf(101))
    response = openai_generate(http, simulator, openai_upload(http, simulator, big)["id"])
    assert response.status_code == 400 and "100 pages" in response.json()["error"]["message"]
    response = anthropic_generate(http, simulator, anthropic_upload(http, simulator, big)["id"])
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "A maximum of 100 PDF pages may be provided."
    response = gemini_generate(http, simulator, gemini_upload(http, simulator, path=big)["uri"])
    assert response.status_code == 200


def test_anthropic_request_over_32_mib_is_413(http, simulator):
    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "x" * (33 * 1024 * 1024)}],
    }
    response = http.post(
        simulator.anthropic_base_url + "/v1/messages", headers=ANTHROPIC_AUTH, json=payload
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"


def test_anthropic_refuses_a_document_that_is_not_a_pdf(http, simulator):
    import base64

    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": base64.b64encode(b"plain text, not a PDF").decode(),
                        },
                    }
                ],
            }
        ],
    }
    response = http.post(
        simulator.anthropic_base_url + "/v1/messages", headers=ANTHROPIC_AUTH, json=payload
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The PDF specified was not valid."


@pytest.mark.parametrize(
    ("provider", "path", "body"),
    [
        (
            "openai",
            "/openai/v1/chat/completions",
            {"model": "gpt-4o", "messages": [{"role": "user", "content": ["not a part"]}]},
        ),
        (
            "gemini",
            "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            {"contents": [{"parts": "not a list"}]},
        ),
        (
            "anthropic",
            "/anthropic/v1/messages",
            {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": ["not a message"]},
        ),
        ("openai", "/openai/v1/chat/completions", "not json {"),
    ],
)
def test_malformed_bodies_are_400_in_provider_shape(http, simulator, provider, path, body):
    headers = {"openai": OPENAI_AUTH, "gemini": GEMINI_AUTH, "anthropic": ANTHROPIC_AUTH}
    content = body if isinstance(body, str) else json.dumps(body)
    response = http.post(
        simulator.url + path,
        headers={**headers[provider], "Content-Type": "application/json"},
        content=content,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "message" in error


def test_stall_mid_answer_is_a_read_timeout(simulator):
    simulator.fault("stall", provider="openai", operation="list", stall=2)
    with httpx.Client(timeout=0.5) as short:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            short.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH)
        assert time.monotonic() - started < 2
        assert short.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH).is_success
