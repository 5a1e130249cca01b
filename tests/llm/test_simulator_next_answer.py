"""A test dictates the simulator's next answer per document (POST /_control/next_answer)."""

import base64
import hashlib
import json

import httpx
import pytest

from tests.llm.test_simulator import (
    AWS,
    GEMINI_AUTH,
    OPENAI_AUTH,
    SCHEMA,
    openai_chat,
    openai_upload,
)

DICTATED = {"invoice_number": "INV-DICTATED", "invoice_date": None, "account_number": 7}


def gemini_inline(http, simulator, data: bytes):
    response = http.post(
        simulator.gemini_base_url + "/v1beta/models/gemini-2.5-flash:generateContent",
        headers=GEMINI_AUTH,
        json={
            "contents": [
                {
                    "parts": [
                        {
                            "inline_data": {
                                "mime_type": "application/pdf",
                                "data": base64.b64encode(data).decode(),
                            }
                        }
                    ]
                }
            ],
            "generation_config": {
                "response_mime_type": "application/json",
                "response_schema": SCHEMA,
            },
        },
    )
    assert response.status_code == 200, response.text
    return json.loads(response.json()["candidates"][0]["content"]["parts"][0]["text"])


def test_dictated_answer_is_sent_once_for_that_document_only(simulator):
    data = AWS.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert simulator.next_answer(sha, DICTATED) == {"next_answers": {sha: 1}}
    with httpx.Client(timeout=10) as http:
        uploaded = openai_upload(http, simulator)
        file_part = {"type": "file", "file": {"file_id": uploaded["id"]}}
        first = http.post(
            simulator.openai_base_url + "/chat/completions",
            headers=OPENAI_AUTH,
            json=openai_chat(file_part),
        ).json()
        assert json.loads(first["choices"][0]["message"]["content"]) == DICTATED
        # Used up: the next call is filled from the PDF's text again.
        assert gemini_inline(http, simulator, data)["invoice_number"] != "INV-DICTATED"


def test_dictated_answers_queue_per_document_and_reset_clears_them(simulator):
    data = AWS.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    simulator.next_answer("0" * 64, {"invoice_number": "OTHER"})
    simulator.next_answer(sha, DICTATED, times=2)
    with httpx.Client(timeout=10) as http:
        assert gemini_inline(http, simulator, data) == DICTATED
        assert gemini_inline(http, simulator, data) == DICTATED
        assert gemini_inline(http, simulator, data)["invoice_number"] != "INV-DICTATED"
    simulator.reset()
    assert httpx.get(simulator.url + "/_control/next_answer").json() == {"next_answers": {}}


@pytest.mark.parametrize(
    "body", [{"answer": {}}, {"sha256": "abc", "answer": {}}, {"sha256": "0" * 64}]
)
def test_bad_next_answer_request_is_400(simulator, body):
    response = httpx.post(simulator.url + "/_control/next_answer", json=body)
    assert response.status_code == 400
