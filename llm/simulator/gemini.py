"""Gemini under /gemini (the API host root): resumable uploads at /upload/{v1beta,v1}/files,
files at /{v1beta,v1}/files/{id}, generation at /models/{m}:generateContent with or without a
version prefix; errors {"error":{code,message,status,details}} (429: details[].retryDelay, no
Retry-After header). File URIs use the real host so LiteLLM passes them by reference.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime

from .answer import THINKING_TOKENS, Doc, build, too_many_pages
from .calls import live_file
from .models import listed_models
from .server import Call, route
from .store import GEMINI_TTL_SECONDS, new_id
from .wire import Response, page

FILE_URI_PREFIX = "https://generativelanguage.googleapis.com/v1beta/files/"
VERSION = r"(?:/(?P<version>v1beta|v1|v1alpha))"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_URLSAFE_TO_STD = str.maketrans("-_", "+/")


def error(call: Call, status: int, message: str, *, details=None, headers=None, status_name=None):
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": status_name or STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }
    if details:
        body["error"]["details"] = details
    headers = dict(headers or {})
    if call.path.startswith("/upload/"):
        # google-genai retries an upload chunk whose answer lacks this header.
        headers.setdefault("x-goog-upload-status", "final")
    return Response(status, body, headers=headers)


def fault_error(call: Call, fault) -> Response:
    status = fault.status
    details = None
    message = fault.message
    if status == 429:
        per = "PerDay" if fault.quota else "PerMinute"
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_free_tier_requests",
                        "quotaId": f"GenerateRequests{per}PerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": call.model or ""},
                        "quotaValue": "10",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
        ]
        delay = fault.retry_delay
        if delay is None and fault.retry_after is not None:
            delay = f"{fault.retry_after}s"
        if delay is not None:
            delay = delay if str(delay).endswith("s") else f"{delay}s"
            details.append(
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
            )
        message = message or (
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, head to: "
            "https://ai.google.dev/gemini-api/docs/rate-limits."
        )
    defaults = {
        400: "Request contains an invalid argument.",
        403: "The caller does not have permission",
        404: "Requested entity was not found.",
        500: "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        503: "The model is overloaded. Please try again later.",
        504: "Deadline expired before operation could complete.",
    }
    headers = {}
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    return error(
        call,
        status,
        message or defaults.get(status, f"Simulated error {status}."),
        details=details,
        headers=headers,
        status_name=fault.code,
    )


def authenticate(call: Call) -> Response | None:
    key = call.header("x-goog-api-key") or call.query.get("key", "")
    if not key and call.operation == "upload" and call.query.get("upload_id"):
        # The resumable session URL itself is the credential (google-genai sends no key there).
        with call.sim.lock:
            if call.query["upload_id"] in call.sim.upload_sessions:
                return None
    if not key:
        return error(
            call,
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    wanted = call.sim.settings.keys.get("gemini")
    if wanted and key != wanted:
        return error(
            call,
            400,
            "API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )
    return None


def model_of(call: Call) -> str | None:
    return call.params.get("model")


# --- files ----------------------------------------------------------------------------------


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def file_json(stored, *, poll: bool = False) -> dict:
    state = "ACTIVE"
    if stored.processing_polls > 0:
        state = "PROCESSING"
        if poll:
            stored.processing_polls -= 1
    sha = base64.b64encode(stored.sha256.encode()).decode()
    return {
        "name": f"files/{stored.id}",
        "displayName": stored.filename,
        "mimeType": stored.mime_type,
        "sizeBytes": str(stored.size),
        "createTime": _time(stored.created_at),
        "updateTime": _time(stored.created_at),
        "expirationTime": _time(stored.expires_at or stored.created_at + GEMINI_TTL_SECONDS),
        "sha256Hash": sha,
        "uri": FILE_URI_PREFIX + stored.id,
        "state": state,
        "source": "UPLOADED",
    }


def gone(call: Call, file_id: str) -> Response:
    return error(
        call, 403, f"You do not have permission to access the File {file_id} or it may not exist."
    )


def lookup(call: Call, file_id: str):
    stored = live_file(call, "gemini", file_id)
    return stored if stored is not None and stored.complete else None


@route("POST", r"/upload" + VERSION + r"/files", "upload")
def upload(call: Call) -> Response:
    command = call.header("X-Goog-Upload-Command").lower()
    upload_id = call.query.get("upload_id")
    if upload_id is None:
        return _start(call, command)
    with call.sim.lock:
        session = call.sim.upload_sessions.get(upload_id)
    if session is None:
        return error(call, 404, "Upload session not found or expired.")
    stored = session["file"]
    commands = {c.strip() for c in command.split(",")}
    if "query" in commands:
        return Response(200, b"", headers=_status_headers("active", session["received"]))
    if "upload" in commands:
        offset = int(call.header("X-Goog-Upload-Offset", "0") or 0)
        if offset != session["received"]:
            return error(call, 400, f"Invalid offset {offset}; expected {session['received']}.")
        with call.sim.store.sink(stored, append=True) as sink:
            session["received"] += call.body.copy_to(sink)
    if "finalize" not in commands:
        return Response(200, b"", headers=_status_headers("active", session["received"]))
    with call.sim.lock:
        call.sim.upload_sessions.pop(upload_id, None)
    call.sim.store.finish(stored)
    stored.processing_polls = call.sim.settings.gemini_processing_polls
    return Response(200, {"file": file_json(stored)}, headers=_status_headers("final", stored.size))


def _status_headers(status: str, received: int) -> dict:
    return {"x-goog-upload-status": status, "x-goog-upload-size-received": str(received)}


def _start(call: Call, command: str) -> Response:
    if "start" not in command:
        return error(call, 400, "Uploads need X-Goog-Upload-Command: start first.")
    protocol = call.header("X-Goog-Upload-Protocol").lower()
    if protocol and protocol != "resumable":
        return error(call, 400, f"Unsupported upload protocol {protocol!r}.")
    body = call.json() if not call.body.done else {}
    meta = (body or {}).get("file") or {}
    display = meta.get("displayName") or meta.get("display_name") or ""
    mime = (
        call.header("X-Goog-Upload-Header-Content-Type")
        or meta.get("mimeType")
        or meta.get("mime_type")
        or "application/octet-stream"
    )
    file_id = new_id("sim", 9, ID_ALPHABET)
    stored = call.sim.store.create(
        provider="gemini",
        id=file_id,
        filename=display or file_id,
        mime_type=mime,
        complete=False,
        expires_at=time.time() + GEMINI_TTL_SECONDS,
    )
    stored.path.write_bytes(b"")
    upload_id = new_id("sim-upload-", 24)
    with call.sim.lock:
        call.sim.upload_sessions[upload_id] = {"file": stored, "received": 0}
    version = call.params.get("version") or "v1beta"
    url = f"{call.base_url}/gemini/upload/{version}/files?upload_id={upload_id}"
    return Response(
        200,
        b"",
        headers={
            "x-goog-upload-url": url + "&upload_protocol=resumable",
            "x-goog-upload-status": "active",
            "x-goog-upload-chunk-granularity": "8388608",
            "x-goog-upload-control-url": url,
            "x-guploader-uploadid": upload_id,
        },
    )


@route("GET", VERSION + r"/files", "list")
def list_files(call: Call) -> Response:
    files = [file_json(f) for f in call.sim.store.list("gemini") if not f.gone]
    files, has_more = page(
        files,
        limit=call.query.get("pageSize") or call.query.get("page_size"),
        after=call.query.get("pageToken") or call.query.get("page_token"),
        key=lambda item: item["name"],
    )
    body = {"files": files} if files else {}
    if has_more:
        body["nextPageToken"] = files[-1]["name"]
    return Response(200, body)


@route("GET", VERSION + r"/files/(?P<id>[a-z0-9-]+)", "get")
def get_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return gone(call, call.params["id"])
    return Response(200, file_json(stored, poll=True))


@route("DELETE", VERSION + r"/files/(?P<id>[a-z0-9-]+)", "delete")
def delete_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return gone(call, call.params["id"])
    call.sim.store.delete("gemini", stored.id)
    return Response(200, {})


@route("GET", VERSION + r"?/models", "models")
def list_models(call: Call) -> Response:
    names = listed_models(call.sim, "gemini")
    return Response(
        200,
        {
            "models": [
                {
                    "name": f"models/{n}",
                    "displayName": n,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for n in names
            ]
        },
    )


# --- generation -----------------------------------------------------------------------------


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


def model_not_found(call: Call) -> Response:
    version = call.params.get("version") or "v1beta"
    return error(
        call,
        404,
        f"models/{call.model} is not found for API version {version}, or is not supported "
        "for generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


ROUTES = [upload, list_files, get_file, delete_file, list_models, generate]
