"""Gemini's /models/{m}:generateContent and :streamGenerateContent, with or without a version
prefix."""

from __future__ import annotations

import base64
import json
import re

from ..answer import THINKING_TOKENS, Doc, build, too_many_pages
from ..calls import Call, route
from ..store import new_id
from ..wire import Response
from .common import VERSION, error
from .files import gone, lookup

_URLSAFE_TO_STD = str.maketrans("-_", "+/")


def _get(obj: dict, camel: str, snake: str, default=None):
    if not isinstance(obj, dict):
        return default
    return obj.get(camel, obj.get(snake, default))


@route(
    "POST",
    VERSION + r"?/models/(?P<model>[^/:]+):(?P<method>generateContent|"
    r"streamGenerateContent)",
    "generate",
)
def generate(call: Call) -> Response:
    body = call.json()
    contents = body.get("contents") if isinstance(body, dict) else None
    if not contents:
        return error(call, 400, "* GenerateContentRequest.contents: contents is not specified")
    docs, prompt = [], []
    system = _get(body, "systemInstruction", "system_instruction") or {}
    for part in system.get("parts", []) if isinstance(system, dict) else []:
        if isinstance(part, dict) and "text" in part:
            prompt.append(str(part["text"]))
    for index, content in enumerate(contents):
        parts = (content or {}).get("parts", [])
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            return error(
                call,
                400,
                f"Invalid value at 'contents[{index}].parts' "
                "(type.googleapis.com/google.ai.generativelanguage.v1beta.Part)",
            )
        for part in parts:
            if "text" in part:
                prompt.append(str(part["text"]))
            file_data = _get(part, "fileData", "file_data")
            if file_data:
                uri = _get(file_data, "fileUri", "file_uri", "")
                file_id = uri.rstrip("/").rsplit("files/", 1)[-1]
                stored = lookup(call, file_id)
                if stored is None:
                    return gone(call, file_id)
                if stored.processing_polls > 0:
                    return error(
                        call,
                        400,
                        f"The File {file_id} is not in an ACTIVE state and usage is not allowed.",
                        status_name="FAILED_PRECONDITION",
                    )
                docs.append(Doc(*call.sim.store.text_of_file(stored)))
            inline = _get(part, "inlineData", "inline_data")
            if inline:
                try:
                    # google-genai sends URL-safe base64; the real API takes both alphabets.
                    data = base64.b64decode(inline.get("data", "").translate(_URLSAFE_TO_STD))
                except ValueError:
                    return error(call, 400, "Invalid value at 'contents.parts.inline_data.data'")
                docs.append(Doc(*call.sim.store.text_of_bytes(data)))
    if limit := too_many_pages("gemini", docs):
        return error(call, 400, f"The document has more than {limit} pages.")
    config = _get(body, "generationConfig", "generation_config") or {}
    schema = None
    for camel, snake in (
        ("responseJsonSchema", "response_json_schema"),
        ("responseSchema", "response_schema"),
        ("_responseJsonSchema", "_response_json_schema"),
    ):
        schema = schema or _get(config, camel, snake)
    mime = _get(config, "responseMimeType", "response_mime_type", "text/plain")
    if schema is not None and mime != "application/json":
        return error(call, 400, "responseSchema requires responseMimeType application/json.")
    answer = build(
        schema=schema,
        json_mode=mime == "application/json",
        docs=docs,
        prompt="\n".join(prompt),
        fault=call.fault,
        scripts=call.sim.scripts,
        max_output_tokens=_get(config, "maxOutputTokens", "max_output_tokens"),
    )
    payload = {
        "candidates": [
            {
                "content": {"parts": [{"text": answer.text}], "role": "model"},
                "finishReason": "MAX_TOKENS" if answer.truncated else "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": _usage(answer, _thinking_tokens(call.params["model"], config)),
        "modelVersion": call.params["model"],
        "responseId": new_id("sim-", 20),
    }
    if call.params["method"] == "streamGenerateContent":
        if call.query.get("alt") == "sse":
            return Response(
                200,
                content_type="text/event-stream",
                stream=iter([f"data: {json.dumps(payload)}\r\n\r\n".encode()]),
            )
        return Response(200, [payload])
    return Response(200, payload)


def _thinking_tokens(model: str, config: dict) -> int:
    thinking = _get(config, "thinkingConfig", "thinking_config") or {}
    budget = _get(thinking, "thinkingBudget", "thinking_budget")
    if budget == 0 or not re.search(r"gemini-(2\.5|[3-9])", model):
        return 0
    return THINKING_TOKENS


def _usage(answer, thoughts: int) -> dict:
    prompt_details = [{"modality": "TEXT", "tokenCount": answer.text_tokens}]
    if answer.document_tokens:
        prompt_details.append({"modality": "DOCUMENT", "tokenCount": answer.document_tokens})
    usage = {
        "promptTokenCount": answer.input_tokens,
        "candidatesTokenCount": answer.output_tokens,
        "totalTokenCount": answer.input_tokens + answer.output_tokens + thoughts,
        "promptTokensDetails": prompt_details,
        "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": answer.output_tokens}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


ROUTES = [generate]
