"""OpenAI's /v1/chat/completions (JSON or SSE), with strict structured outputs checked as the
real API does."""

from __future__ import annotations

import base64
import json
import re
import time

from ..answer import (
    THINKING_TOKENS,
    Doc,
    build,
    data_url_bytes,
    too_many_pages,
)
from ..calls import Call, route
from ..store import new_id
from ..wire import Response
from .common import error
from .files import lookup, missing_file

FINGERPRINT = "fp_remorai_sim"


@route("POST", r"/v1/chat/completions", "generate")
def chat(call: Call) -> Response:
    body = call.json()
    if not isinstance(body, dict):
        return error(call, 400, "The request body must be a JSON object.")
    if not body.get("model"):
        return error(call, 400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error(call, 400, "Missing required parameter: 'messages'.", param="messages")
    docs, prompt = [], []
    for m_index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            prompt.append(content)
            continue
        for p_index, part in enumerate(content or []):
            kind = part.get("type")
            where = f"messages[{m_index}].content[{p_index}].file"
            if kind == "text":
                prompt.append(str(part.get("text", "")))
            elif kind == "file":
                spec = part.get("file") or {}
                if spec.get("file_id"):
                    stored = lookup(call, spec["file_id"])
                    if stored is None:
                        return missing_file(call, spec["file_id"], param=f"{where}.file_id")
                    docs.append(Doc(*call.sim.store.text_of_file(stored)))
                elif spec.get("file_data") and not spec.get("filename"):
                    # The real API's (odd) answer to inline data without a filename.
                    return error(
                        call,
                        400,
                        f"Missing required parameter: '{where}.file_id'.",
                        param=f"{where}.file_id",
                        code="missing_required_parameter",
                    )
                elif spec.get("file_data"):
                    data = data_url_bytes(spec["file_data"])
                    if data is None:
                        data = _b64(spec["file_data"])
                    if data is None:
                        return error(call, 400, "Invalid file data.", param="file_data")
                    docs.append(Doc(*call.sim.store.text_of_bytes(data)))
                else:
                    return error(
                        call, 400, "A file part needs file_id or file_data.", param="messages"
                    )
    if limit := too_many_pages("openai", docs):
        return error(
            call,
            400,
            f"Invalid request: the PDF files in this request have more than {limit} pages in "
            f"total; at most {limit} pages are supported.",
            param="messages",
        )
    schema, json_mode = None, False
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        if not isinstance(spec.get("schema"), dict):
            return error(
                call,
                400,
                "Missing required parameter: 'response_format.json_schema.schema'.",
                param="response_format",
            )
        schema = spec["schema"]
        if spec.get("strict"):
            problem = strict_schema_problem(schema)
            if problem:
                return error(
                    call,
                    400,
                    f"Invalid schema for response_format '{spec.get('name', '')}': {problem}",
                    param="response_format",
                    code="invalid_json_schema",
                )
    elif fmt.get("type") == "json_object":
        json_mode = True
    answer = build(
        schema=schema,
        json_mode=json_mode,
        docs=docs,
        prompt="\n".join(prompt),
        fault=call.fault,
        scripts=call.sim.scripts,
        max_output_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
    )
    completion_id = new_id("chatcmpl-sim", 24)
    created = int(time.time())
    reasoning = THINKING_TOKENS if re.match(r"(gpt-[5-9]|o\d)", body["model"]) else 0
    usage = {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens + reasoning,
        "total_tokens": answer.input_tokens + answer.output_tokens + reasoning,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    finish = "length" if answer.truncated else "stop"
    headers = {
        "x-request-id": new_id("req_sim"),
        "openai-processing-ms": "1",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-tokens": str(30000000 - answer.input_tokens),
        "x-ratelimit-reset-tokens": "0s",
    }
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Response(
            200,
            headers=headers,
            content_type="text/event-stream",
            stream=_sse(
                completion_id,
                created,
                body["model"],
                answer.text,
                finish,
                usage if include_usage else None,
            ),
        )
    return Response(
        200,
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body["model"],
            "system_fingerprint": FINGERPRINT,
            "service_tier": "default",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": answer.text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        },
        headers=headers,
    )


def strict_schema_problem(schema: dict, context: tuple = ()) -> str | None:
    """What OpenAI's strict structured outputs refuse: an object without additionalProperties
    false, or whose `required` misses one of its properties."""
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if is_object or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return (
                f"In context={context!r}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        missing = [k for k in schema.get("properties") or {} if k not in schema.get("required", [])]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
    for name, sub in (schema.get("properties") or {}).items():
        if problem := strict_schema_problem(sub, (*context, "properties", name)):
            return problem
    if problem := strict_schema_problem(schema.get("items"), (*context, "items")):
        return problem
    for keyword in ("anyOf", "oneOf", "allOf"):
        for index, sub in enumerate(schema.get(keyword) or []):
            if problem := strict_schema_problem(sub, (*context, keyword, str(index))):
                return problem
    for keyword in ("$defs", "definitions"):
        for name, sub in (schema.get(keyword) or {}).items():
            if problem := strict_schema_problem(sub, (*context, keyword, name)):
                return problem
    return None


def _sse(completion_id, created, model, text, finish, usage):
    def event(choices, **extra):
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    def chunk(delta, finish_reason=None):
        return event(
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for start in range(0, len(text), 40):
        yield chunk({"content": text[start : start + 40]})
    yield chunk({}, finish)
    if usage is not None:
        yield event([], usage=usage)
    yield b"data: [DONE]\n\n"


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None


ROUTES = [chat]
