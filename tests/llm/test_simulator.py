"""The simulator's provider routes over raw HTTP: files round trips and schema-valid answers."""

import json
from pathlib import Path

import httpx
import jsonschema
import pytest

PDFS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pdfs"
AWS = PDFS / "truth" / "AmazonWebServices.pdf"
SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "invoice_date": {"type": ["string", "null"], "format": "date"},
        "account_number": {"type": "integer"},
        "total_amount": {"type": ["number", "null"]},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {},
                "required": [],
                "additionalProperties": False,
            },
        },
    },
    "required": ["invoice_number", "invoice_date", "account_number", "total_amount", "lines"],
    "additionalProperties": False,
}
# What the AWS invoice's text layer holds ("Invoice Number: 42183017", "Invoice Date: August 3 ,
# 2014", "Account number:" with the value on the next line, a total at the end of a line).
EXPECTED = {
    "invoice_number": "42183017",
    "invoice_date": "2014-08-03",
    "account_number": 296664039561,
    "total_amount": 4.11,  # "TOTAL AMOUNT DUE ON August 3 , 2014 $4.11"
    "lines": [],
}
OPENAI_AUTH = {"Authorization": "Bearer sk-test"}
GEMINI_AUTH = {"x-goog-api-key": "gm-test"}
ANTHROPIC_AUTH = {
    "x-api-key": "sk-ant-test",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "files-api-2025-04-14",
}


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client


def openai_upload(http, simulator, path=AWS):
    with path.open("rb") as fh:
        response = http.post(
            simulator.openai_base_url + "/files",
            headers=OPENAI_AUTH,
            files={"file": (path.name, fh, "application/pdf")},
            data={"purpose": "user_data"},
        )
    assert response.status_code == 200, response.text
    return response.json()


def gemini_upload(http, simulator, version="v1beta", path=AWS):
    start = http.post(
        f"{simulator.gemini_base_url}/upload/{version}/files",
        headers={
            **GEMINI_AUTH,
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(path.stat().st_size),
            "X-Goog-Upload-Header-Content-Type": "application/pdf",
        },
        json={"file": {"display_name": path.name}},
    )
    assert start.status_code == 200, start.text
    url = start.headers["x-goog-upload-url"]
    assert url.startswith(simulator.url + "/gemini/upload/")
    done = http.post(
        url,
        headers={
            **GEMINI_AUTH,
            "X-Goog-Upload-Command": "upload, finalize",
            "X-Goog-Upload-Offset": "0",
        },
        content=path.read_bytes(),
    )
    assert done.status_code == 200, done.text
    assert done.headers["x-goog-upload-status"] == "final"
    return done.json()["file"]


def anthropic_upload(http, simulator, path=AWS):
    with path.open("rb") as fh:
        response = http.post(
            simulator.anthropic_base_url + "/v1/files?beta=true",
            headers=ANTHROPIC_AUTH,
            files={"file": (path.name, fh, "application/pdf")},
        )
    assert response.status_code == 200, response.text
    return response.json()


def openai_chat(file_part, schema=SCHEMA):
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Extract."}, file_part]}
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "invoice", "schema": schema, "strict": True},
        },
    }


def test_openai_file_round_trip_and_chat_by_file_id(http, simulator):
    uploaded = openai_upload(http, simulator)
    assert uploaded["id"].startswith("file-") and uploaded["bytes"] == AWS.stat().st_size
    base = simulator.openai_base_url

    listed = http.get(base + "/files", headers=OPENAI_AUTH).json()
    assert [f["id"] for f in listed["data"]] == [uploaded["id"]]
    assert http.get(f"{base}/files/{uploaded['id']}", headers=OPENAI_AUTH).json() == uploaded
    content = http.get(f"{base}/files/{uploaded['id']}/content", headers=OPENAI_AUTH)
    assert content.content == AWS.read_bytes()

    part = {"type": "file", "file": {"file_id": uploaded["id"], "format": "application/pdf"}}
    response = http.post(base + "/chat/completions", headers=OPENAI_AUTH, json=openai_chat(part))
    assert response.status_code == 200, response.text
    assert response.headers["x-simulator"] == "remorai"
    body = response.json()
    assert body["system_fingerprint"] == "fp_remorai_sim" and "sim" in body["id"]
    answer = json.loads(body["choices"][0]["message"]["content"])
    jsonschema.validate(answer, SCHEMA)
    assert answer == EXPECTED
    assert body["usage"]["prompt_tokens"] > 258 and body["usage"]["completion_tokens"] > 0

    deleted = http.delete(f"{base}/files/{uploaded['id']}", headers=OPENAI_AUTH)
    assert deleted.json() == {"id": uploaded["id"], "object": "file", "deleted": True}
    gone = http.get(f"{base}/files/{uploaded['id']}", headers=OPENAI_AUTH)
    assert gone.status_code == 404
    assert gone.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_gemini_resumable_upload_and_generate_by_uri(http, simulator, version):
    uploaded = gemini_upload(http, simulator, version)
    assert uploaded["uri"].startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    assert uploaded["state"] == "ACTIVE" and uploaded["sizeBytes"] == str(AWS.stat().st_size)
    file_id = uploaded["name"].removeprefix("files/")
    base = simulator.gemini_base_url
    got = http.get(f"{base}/{version}/files/{file_id}", headers=GEMINI_AUTH)
    assert got.json()["name"] == uploaded["name"]

    payload = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "Extract."},
                    {"fileData": {"fileUri": uploaded["uri"], "mimeType": "application/pdf"}},
                ],
            }
        ],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA},
    }
    for path in (
        "/models/gemini-2.5-flash:generateContent",
        f"/{version}/models/gemini-2.5-flash:generateContent",
    ):
        response = http.post(base + path, headers=GEMINI_AUTH, json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
        assert json.loads(body["candidates"][0]["content"]["parts"][0]["text"]) == EXPECTED
        details = {
            d["modality"]: d["tokenCount"] for d in body["usageMetadata"]["promptTokensDetails"]
        }
        assert details["DOCUMENT"] >= 258
        assert body["responseId"].startswith("sim-")

    deleted = http.delete(f"{base}/{version}/files/{file_id}", headers=GEMINI_AUTH)
    assert deleted.status_code == 200
    assert http.get(f"{base}/{version}/files/{file_id}", headers=GEMINI_AUTH).status_code == 403


def test_anthropic_files_and_forced_tool_answer(http, simulator):
    uploaded = anthropic_upload(http, simulator)
    assert uploaded["type"] == "file" and uploaded["size_bytes"] == AWS.stat().st_size
    base = simulator.anthropic_base_url
    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "file", "file_id": uploaded["id"]}},
                    {"type": "text", "text": "Extract."},
                ],
            }
        ],
        "tools": [{"name": "json_tool_call", "input_schema": SCHEMA}],
        "tool_choice": {"type": "tool", "name": "json_tool_call"},
    }
    response = http.post(base + "/v1/messages", headers=ANTHROPIC_AUTH, json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stop_reason"] == "tool_use"
    assert body["content"][0]["name"] == "json_tool_call"
    assert body["content"][0]["input"] == EXPECTED
    assert body["usage"]["input_tokens"] > 258

    deleted = http.delete(f"{base}/v1/files/{uploaded['id']}", headers=ANTHROPIC_AUTH)
    assert deleted.json() == {"id": uploaded["id"], "type": "file_deleted"}
    missing = http.get(f"{base}/v1/files/{uploaded['id']}", headers=ANTHROPIC_AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"


def test_file_lists_paginate_like_each_provider(http, simulator):
    ids = [openai_upload(http, simulator)["id"] for _ in range(3)]
    base = simulator.openai_base_url
    first = http.get(base + "/files?limit=2", headers=OPENAI_AUTH).json()
    assert first["has_more"] is True and len(first["data"]) == 2
    rest = http.get(f"{base}/files?limit=2&after={first['last_id']}", headers=OPENAI_AUTH).json()
    assert rest["has_more"] is False
    assert sorted(f["id"] for f in first["data"] + rest["data"]) == sorted(ids)

    names = [gemini_upload(http, simulator)["name"] for _ in range(3)]
    base = simulator.gemini_base_url + "/v1beta/files"
    first = http.get(base + "?pageSize=2", headers=GEMINI_AUTH).json()
    assert len(first["files"]) == 2 and first["nextPageToken"]
    rest = http.get(
        f"{base}?pageSize=2&pageToken={first['nextPageToken']}", headers=GEMINI_AUTH
    ).json()
    assert "nextPageToken" not in rest
    assert sorted(f["name"] for f in first["files"] + rest["files"]) == sorted(names)

    ids = [anthropic_upload(http, simulator)["id"] for _ in range(2)]
    base = simulator.anthropic_base_url + "/v1/files"
    first = http.get(base + "?limit=1", headers=ANTHROPIC_AUTH).json()
    rest = http.get(f"{base}?limit=1&after_id={first['last_id']}", headers=ANTHROPIC_AUTH).json()
    assert first["has_more"] is True and rest["has_more"] is False
    assert sorted(f["id"] for f in first["data"] + rest["data"]) == sorted(ids)


def test_thinking_models_report_hidden_reasoning_tokens(http, simulator):
    gemini = http.post(
        simulator.gemini_base_url + "/models/gemini-2.5-flash:generateContent",
        headers=GEMINI_AUTH,
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    ).json()["usageMetadata"]
    assert gemini["thoughtsTokenCount"] > 0
    assert gemini["totalTokenCount"] == (
        gemini["promptTokenCount"] + gemini["candidatesTokenCount"] + gemini["thoughtsTokenCount"]
    )
    payload = {"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}
    usage = http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
    ).json()["usage"]
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    payload["model"] = "gpt-4o"
    usage = http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
    ).json()["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_served_models_can_be_pinned(http, simulator):
    simulator.settings(
        models={
            "openai": ["gpt-4o"],
            "gemini": ["gemini-2.5-flash"],
            "anthropic": ["claude-sonnet-4-5"],
        }
    )
    payload = {"model": "gpt-3", "messages": [{"role": "user", "content": "hi"}]}
    response = http.post(
        simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    response = http.post(
        simulator.gemini_base_url + "/v1beta/models/gemini-1.0:generateContent",
        headers=GEMINI_AUTH,
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
    response = http.post(
        simulator.anthropic_base_url + "/v1/messages",
        headers=ANTHROPIC_AUTH,
        json={
            "model": "claude-2",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    payload["model"] = "gpt-4o"
    assert (
        http.post(
            simulator.openai_base_url + "/chat/completions", headers=OPENAI_AUTH, json=payload
        ).status_code
        == 200
    )
