"""Anthropic's /v1/messages: document blocks (file_id or base64), forced tools answered with
tool_use, `output_format` / `output_config.format` json_schema answered as JSON text."""

from __future__ import annotations

import base64
import json

from ..answer import Doc, build, too_many_pages
from ..calls import Call, route
from ..store import new_id
from ..wire import Response
from .common import error
from .files import lookup, missing

MAX_REQUEST_BYTES = 32 * 1024 * 1024


@route("POST", r"/v1/messages", "generate")
def messages(call: Call) -> Response:
    body = call.json()
    if not isinstance(body, dict):
        return error(call, 400, "The request body must be a JSON object.")
    for required in ("model", "max_tokens", "messages"):
        if required not in body:
            return error(call, 400, f"{required}: Field required")
    if call.body.bytes_read > MAX_REQUEST_BYTES:
        return error(call, 413, "Request exceeds the maximum allowed number of bytes.")
    docs, prompt = [], []
    system = body.get("system")
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system or []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        blocks.extend(content or [])
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            prompt.append(str(block.get("text", "")))
        elif kind == "tool_result":
            prompt.append(json.dumps(block.get("content", "")))
        elif kind == "document":
            doc = _document(call, block.get("source") or {})
            if isinstance(doc, Response):
                return doc
            docs.append(doc)
    if limit := too_many_pages("anthropic", docs):
        return error(call, 400, f"A maximum of {limit} PDF pages may be provided.")
    schema, tool_name = _schema(body)
    if schema is not None and tool_name is None:
        where = (
            "output_format.schema" if body.get("output_format") else "output_config.format.schema"
        )
        problem = structured_output_problem(schema)
        if problem:
            return error(call, 400, f"{where}: {problem}")
    answer = build(
        schema=schema,
        json_mode=False,
        docs=docs,
        prompt="\n".join(prompt),
        fault=call.fault,
        scripts=call.sim.scripts,
        max_output_tokens=body.get("max_tokens"),
    )
    stop = "max_tokens" if answer.truncated else "end_turn"
    if tool_name and isinstance(answer.value, dict):
        content = [
            {
                "type": "tool_use",
                "id": new_id("toolu_sim", 20),
                "name": tool_name,
                "input": answer.value,
            }
        ]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": answer.text}]
    request_id = new_id("req_sim", 24)
    payload = {
        "id": new_id("msg_sim", 24),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": answer.input_tokens,
            "output_tokens": answer.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }
    headers = {
        "request-id": request_id,
        "anthropic-ratelimit-requests-limit": "4000",
        "anthropic-ratelimit-requests-remaining": "3999",
        "anthropic-ratelimit-input-tokens-limit": "2000000",
        "anthropic-ratelimit-input-tokens-remaining": str(2000000 - answer.input_tokens),
    }
    if body.get("stream"):
        return Response(
            200, headers=headers, content_type="text/event-stream", stream=_sse(payload)
        )
    return Response(200, payload, headers=headers)


def _document(call: Call, source: dict) -> Doc | Response:
    kind = source.get("type")
    if kind == "text":
        return Doc(str(source.get("data", "")), 1)
    if kind == "file":
        stored = lookup(call, source.get("file_id", ""))
        if stored is None:
            return missing(call, source.get("file_id", ""))
        doc = Doc(*call.sim.store.text_of_file(stored))
    elif kind == "base64":
        try:
            data = base64.b64decode(source.get("data", ""), validate=True)
        except ValueError:
            return error(call, 400, "document.source.base64.data: invalid base64 data")
        doc = Doc(*call.sim.store.text_of_bytes(data))
    else:
        return error(call, 400, f"document.source: unsupported type {kind}")
    if doc.pages == 0:
        return error(call, 400, "The PDF specified was not valid.")
    return doc


def _schema(body: dict) -> tuple[dict | None, str | None]:
    """(schema, forced tool name): output_format / output_config.format, else a forced tool."""
    fmt = body.get("output_format") or (body.get("output_config") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return fmt.get("schema") or {}, None
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    choice = body.get("tool_choice") or {}
    forced = None
    if choice.get("type") == "tool":
        forced = next((t for t in tools if t.get("name") == choice.get("name")), None)
    elif choice.get("type") == "any" and tools:
        forced = tools[0]
    if forced is not None:
        return forced["input_schema"], forced["name"]
    return None, None


UNSUPPORTED = {
    "array": ("uniqueItems", "contains", "minContains", "maxContains", "prefixItems", "maxItems"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "string": ("minLength", "maxLength"),
    "object": ("minProperties", "maxProperties", "patternProperties", "propertyNames"),
}


def structured_output_problem(schema) -> str | None:
    """What Anthropic's structured outputs refuse (the SDK's transform_schema strips these and
    sets additionalProperties false; a raw dict schema gets no such help)."""
    if not isinstance(schema, dict):
        return None
    if "oneOf" in schema:
        return "Schema type 'oneOf' is not supported"
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    for kind in kinds:
        for key in UNSUPPORTED.get(kind, ()):
            if key in schema:
                return f"For '{kind}' type, property '{key}' is not supported"
    if "array" in kinds and int(schema.get("minItems") or 0) > 1:
        return "For 'array' type, 'minItems' values other than 0 or 1 are not supported"
    if ("object" in kinds or "properties" in schema) and schema.get(
        "additionalProperties"
    ) is not False:
        return "For 'object' type, 'additionalProperties' must be explicitly set to false"
    children = list((schema.get("properties") or {}).values())
    children += (
        [schema.get("items")] + list(schema.get("anyOf") or []) + list(schema.get("allOf") or [])
    )
    children += list((schema.get("$defs") or schema.get("definitions") or {}).values())
    for child in children:
        if problem := structured_output_problem(child):
            return problem
    return None


def _sse(message: dict):
    def event(name: str, data: dict) -> bytes:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    yield event("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            yield event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "input": {}},
                },
            )
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            yield event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            delta = {"type": "text_delta", "text": block["text"]}
        yield event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
        yield event("content_block_stop", {"type": "content_block_stop", "index": index})
    yield event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        },
    )
    yield event("message_stop", {"type": "message_stop"})


ROUTES = [messages]
