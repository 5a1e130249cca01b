"""OpenAI under /openai: /v1/files (multipart upload, list, get, delete, content) and
/v1/chat/completions (JSON or SSE), with OpenAI's error body {"error":{message,type,param,code}}.
"""

from __future__ import annotations

import base64
import json
import re
import time

from .answer import (
    THINKING_TOKENS,
    Doc,
    build,
    data_url_bytes,
    retry_headers,
    too_many_pages,
)
from .calls import live_file, model_in_body, receive_file
from .models import listed_models
from .server import Call, route
from .store import new_id
from .wire import Response, page

FINGERPRINT = "fp_remorai_sim"
PURPOSES = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}


def error(
    call: Call, status: int, message: str, *, type_=None, param=None, code=None, headers=None
):
    if type_ is None:
        type_ = {401: "invalid_request_error", 429: "requests", 500: "server_error"}.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return Response(status, body, headers={"x-request-id": new_id("req_sim")} | (headers or {}))


def fault_error(call: Call, fault) -> Response:
    status = fault.status
    headers = retry_headers(fault)
    if fault.quota:
        return error(
            call,
            status if status != 500 else 429,
            fault.message
            or "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type_="insufficient_quota",
            code=fault.code or "insufficient_quota",
            headers=headers,
        )
    messages = {
        400: "Invalid request (simulated fault).",
        401: "Incorrect API key provided.",
        403: "You are not allowed to sample from this model",
        404: "The model does not exist or you do not have access to it.",
        408: "Request timed out.",
        409: "Conflict (simulated fault).",
        429: f"Rate limit reached for {call.model or 'requests'} (simulated). "
        "Please try again in 2s.",
        500: "The server had an error while processing your request. Sorry about that!",
        502: "Bad gateway.",
        503: "The server is overloaded or not ready yet.",
    }
    code = fault.code or {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status)
    return error(
        call,
        status,
        fault.message or messages.get(status, f"Simulated error {status}."),
        type_=fault.error_type or ("tokens" if status == 429 else None),
        code=code,
        headers=headers,
    )


def authenticate(call: Call) -> Response | None:
    auth = call.header("Authorization")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        return error(
            call,
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    wanted = call.sim.settings.keys.get("openai")
    if wanted and token != wanted:
        return error(
            call,
            401,
            "Incorrect API key provided: sk-***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return None


def model_of(call: Call) -> str | None:
    return model_in_body(call)


def model_not_found(call: Call) -> Response:
    return error(
        call,
        404,
        f"The model `{call.model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


# --- files ----------------------------------------------------------------------------------


def file_json(stored) -> dict:
    return {
        "id": stored.id,
        "object": "file",
        "bytes": stored.size,
        "created_at": int(stored.created_at),
        "expires_at": None,
        "filename": stored.filename,
        "purpose": stored.purpose,
        "status": "processed",
        "status_details": None,
    }


def missing_file(call: Call, file_id: str, param="id") -> Response:
    return error(call, 404, f"No such File object: {file_id}", param=param)


def lookup(call: Call, file_id: str):
    return live_file(call, "openai", file_id)


@route("POST", r"/v1/files", "upload")
def upload(call: Call) -> Response:
    store = call.sim.store
    file_id = new_id("file-sim", 22)
    if "multipart/form-data" not in call.header("Content-Type"):
        return error(call, 400, "Invalid Content-Type header; expected multipart/form-data.")
    fields, stored = receive_file(call, "openai", file_id)
    purpose = fields.get("purpose").value.decode() if "purpose" in fields else ""
    if stored is None:
        return error(call, 400, "Missing required parameter: 'file'.", param="file")
    if not purpose or purpose not in PURPOSES:
        store.delete("openai", file_id)
        if not purpose:
            return error(call, 400, "Missing required parameter: 'purpose'.", param="purpose")
        return error(
            call, 400, f"'{purpose}' is not one of {sorted(PURPOSES)} - 'purpose'", param="purpose"
        )
    stored.purpose = purpose
    store.finish(stored)
    return Response(200, file_json(stored))


@route("GET", r"/v1/files", "list")
def list_files(call: Call) -> Response:
    files = [file_json(f) for f in call.sim.store.list("openai") if not f.gone]
    if call.query.get("purpose"):
        files = [f for f in files if f["purpose"] == call.query["purpose"]]
    if call.query.get("order") == "asc":
        files.reverse()
    files, has_more = page(files, limit=call.query.get("limit"), after=call.query.get("after"))
    return Response(
        200,
        {
            "object": "list",
            "data": files,
            "has_more": has_more,
            "first_id": files[0]["id"] if files else None,
            "last_id": files[-1]["id"] if files else None,
        },
    )


@route("GET", r"/v1/files/(?P<id>[^/]+)", "get")
def get_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    return Response(200, file_json(stored))


@route("DELETE", r"/v1/files/(?P<id>[^/]+)", "delete")
def delete_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    call.sim.store.delete("openai", stored.id)
    return Response(200, {"id": stored.id, "object": "file", "deleted": True})


@route("GET", r"/v1/files/(?P<id>[^/]+)/content", "content")
def file_content(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    return Response(200, file=stored.path, content_type="application/octet-stream")


@route("GET", r"/v1/models", "models")
def list_models(call: Call) -> Response:
    names = listed_models(call.sim, "openai")
    data = [
        {"id": n, "object": "model", "created": 1715367049, "owned_by": "system"} for n in names
    ]
    return Response(200, {"object": "list", "data": data})


# --- chat -----------------------------------------------------------------------------------


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
    def chunk(delta, finish_reason=None, **extra):
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
            **extra,
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for start in range(0, len(text), 40):
        yield chunk({"content": text[start : start + 40]})
    yield chunk({}, finish)
    if usage is not None:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [],
            "usage": usage,
        }
        yield f"data: {json.dumps(payload)}\n\n".encode()
    yield b"data: [DONE]\n\n"


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return None


ROUTES = [upload, list_files, get_file, delete_file, file_content, list_models, chat]
