"""Pieces shared by the gateways: the document part, inline base64, the simulator's marks.

Answers are not parsed here: llm/validation.py parses each one, once."""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

from llm.errors import RequestRejected
from llm.types import GenerationRequest

# 3 bytes of input make 4 of base64: read multiples of 3 so chunks encode without padding.
_RAW_CHUNK = 3 * 64 * 1024
_PLACEHOLDER = "@@remorai-inline-file@@"
#: where the file's base64 goes in a body for streamed_json_with_file
FILE_PLACEHOLDER = _PLACEHOLDER

# How the simulator marks its answers (llm/simulator/__init__.py): a header, which LiteLLM
# forwards as llm_provider-… for OpenAI and Anthropic upstreams but not for Gemini; ids with a
# "sim" prefix, which LiteLLM passes on as the completion id; a text prefix on plain answers.
SIMULATOR_HEADERS = ("x-simulator", "llm_provider-x-simulator")
SIMULATOR_ID_PREFIXES = ("chatcmpl-sim", "sim-", "msg_sim")
SIMULATOR_TEXT_MARK = "[simulated by remorai]"


def base64_size(size: int) -> int:
    return 4 * math.ceil(size / 3)


def iter_base64(path: Path) -> Iterator[bytes]:
    """The file's base64 encoding, produced chunk by chunk (never the whole file in memory)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(_RAW_CHUNK):
            yield base64.b64encode(chunk)


def read_base64(path: Path) -> str:
    """The whole file as one base64 string (for SDKs that take the document as a value)."""
    return b"".join(iter_base64(path)).decode("ascii")


def streamed_json_with_file(body: dict, path: Path) -> tuple[Iterator[bytes], int]:
    """`body` as JSON bytes with the file's base64 spliced in where _PLACEHOLDER stands.

    Returns (chunks, exact length), so the body goes out with a Content-Length and the file is
    never held whole: the JSON around it is encoded once, the file streamed in base64 chunks.
    """
    encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    prefix, sep, suffix = encoded.partition(_PLACEHOLDER.encode())
    if not sep:
        raise ValueError("body has no file placeholder")
    length = len(prefix) + base64_size(os.path.getsize(path)) + len(suffix)

    def chunks() -> Iterator[bytes]:
        yield prefix
        yield from iter_base64(path)
        yield suffix

    return chunks(), length


def inline_data_url(mime: str) -> str:
    """The data URL whose payload streamed_json_with_file fills in."""
    return f"data:{mime};base64,{_PLACEHOLDER}"


def chat_messages(request: GenerationRequest, part: dict) -> dict:
    """An OpenAI-style chat body's messages (the document as `part`, then the instructions, then
    any repair turns) and its strict JSON-schema response format: the proxy's and OpenAI's."""
    return {
        "messages": [
            {"role": "user", "content": [part, {"type": "text", "text": request.instructions}]},
            *request.followups,
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
        },
    }


def require_file(request: GenerationRequest) -> str:
    if request.transport == "file":
        if request.file is None:
            raise RequestRejected("transport 'file' needs a remote file (request.file).")
        return request.file.id
    if request.path is None:
        raise RequestRejected("transport 'inline' needs the document's path (request.path).")
    return ""


def simulated(headers, text: str | None = None, response_id: str | None = None) -> bool:
    """Whether the answer came from the remorai provider simulator, not a real model."""
    lower = {k.lower() for k in headers}
    if any(name in lower for name in SIMULATOR_HEADERS):
        return True
    if response_id and response_id.startswith(SIMULATOR_ID_PREFIXES):
        return True
    return bool(text) and SIMULATOR_TEXT_MARK in text
