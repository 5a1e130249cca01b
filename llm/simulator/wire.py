"""Request/response plumbing shared by the provider modules: body readers, multipart, JSON."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, BinaryIO

# A JSON body larger than this is refused (400). The benchmarks raise it to send a 200 MiB PDF
# inline (267 MiB of base64); real providers refuse far less (Gemini inline: 20 MB).
MAX_JSON_BYTES = int(os.environ.get("SIMULATOR_MAX_JSON_BYTES", 200 * 1024 * 1024))
REDACTED_HEADERS = {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"}


class BadRequest(Exception):
    """Malformed request framing or body (answered as the provider's 400)."""


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes -> raw, None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterable[bytes] | None = None  # chunked transfer (SSE)
    drop: bool = False  # close the socket without answering
    file: Path | None = None  # body streamed from this file (with its Content-Length)
    stall: float = 0.0  # send half the body, wait this long, close (the "stall" fault)
    content_type: str = "application/json"


class BodyReader:
    """Reads a request body framed by Content-Length or chunked transfer encoding."""

    def __init__(self, rfile: BinaryIO, headers: Message):
        self.rfile = rfile
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        length = headers.get("Content-Length")
        self.remaining = int(length) if length and not self.chunked else 0
        self.chunk_left = 0
        self.done = not self.chunked and self.remaining == 0
        self.bytes_read = 0

    def read(self, size: int = 1 << 16) -> bytes:
        if self.done:
            return b""
        if not self.chunked:
            data = self.rfile.read(min(size, self.remaining))
            if not data:
                raise BadRequest("connection closed before the body was complete")
            self.remaining -= len(data)
            self.done = self.remaining == 0
            self.bytes_read += len(data)
            return data
        if self.chunk_left == 0:
            line = self.rfile.readline(1024)
            if not line:
                raise BadRequest("connection closed inside a chunked body")
            try:
                self.chunk_left = int(line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest("bad chunk size") from exc
            if self.chunk_left == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self.done = True
                return b""
        data = self.rfile.read(min(size, self.chunk_left))
        if not data:
            raise BadRequest("connection closed inside a chunk")
        self.chunk_left -= len(data)
        self.bytes_read += len(data)
        if self.chunk_left == 0:
            self.rfile.readline(16)
        return data

    def read_all(self, limit: int = MAX_JSON_BYTES) -> bytes:
        parts = []
        total = 0
        while not self.done:
            data = self.read(1 << 20)
            total += len(data)
            if total > limit:
                raise BadRequest("request body too large")
            parts.append(data)
        return b"".join(parts)

    def drain(self) -> None:
        while not self.done:
            self.read(1 << 20)

    def copy_to(self, sink: BinaryIO) -> int:
        written = 0
        while not self.done:
            data = self.read(1 << 20)
            sink.write(data)
            written += len(data)
        return written


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON body: {exc}") from exc


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    value: bytes = b""  # for fields
    size: int = 0  # for files


def parse_multipart(
    reader: BodyReader, content_type: str, open_file: Callable[[Part], BinaryIO]
) -> dict[str, Part]:
    """Stream a multipart/form-data body; file parts go to `open_file(part)`'s sink."""
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise BadRequest("multipart body without a boundary")
    delim = b"\r\n--" + match.group(1).encode("latin-1")
    buf = b"\r\n"
    parts: dict[str, Part] = {}
    current: Part | None = None
    sink: BinaryIO | None = None
    finished = False

    def more() -> bool:
        nonlocal buf
        data = reader.read(1 << 20)
        buf += data
        return bool(data)

    while not finished:
        index = buf.find(delim)
        if index < 0:
            keep = len(delim) + 4
            if current is not None and len(buf) > keep:
                emit, buf = buf[:-keep], buf[-keep:]
                _write(current, sink, emit)
            if not more():
                raise BadRequest("multipart body ended without its closing boundary")
            continue
        if current is not None:
            _write(current, sink, buf[:index])
            if sink is not None and current.filename is not None:
                sink.close()
            parts[current.name] = current
            current, sink = None, None
        buf = buf[index + len(delim) :]
        while len(buf) < 2 and more():
            pass
        if buf.startswith(b"--"):
            finished = True
            break
        while b"\r\n\r\n" not in buf:
            if not more() or len(buf) > 65536:
                raise BadRequest("multipart part headers incomplete")
        head, _, buf = buf.partition(b"\r\n\r\n")
        current = _part_from_headers(head.decode("utf-8", "replace"))
        sink = open_file(current) if current.filename is not None else None
    reader.drain()
    return parts


def _write(part: Part, sink: BinaryIO | None, data: bytes) -> None:
    if not data:
        return
    if sink is not None:
        sink.write(data)
        part.size += len(data)
    else:
        if len(part.value) + len(data) > 1 << 20:
            raise BadRequest(f"form field {part.name!r} too large")
        part.value += data


def _part_from_headers(head: str) -> Part:
    message = Message()
    for line in head.strip("\r\n").split("\r\n"):
        key, _, value = line.partition(":")
        message[key.strip()] = value.strip()
    disposition = message.get("Content-Disposition", "")
    name = _param(disposition, "name") or ""
    filename = _param(disposition, "filename")
    return Part(
        name=name,
        filename=filename,
        content_type=message.get("Content-Type", "application/octet-stream"),
    )


def _param(header: str, key: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{key}="((?:[^"\\]|\\.)*)"', header) or re.search(
        rf"(?:^|;)\s*{key}=([^;]+)", header
    )
    return match.group(1).strip() if match else None


def redact_headers(headers: Message) -> dict[str, str]:
    return {k.lower(): ("***" if k.lower() in REDACTED_HEADERS else v) for k, v in headers.items()}


def shorten(value: Any, limit: int = 2000) -> Any:
    """A copy of a JSON body fit for the request log (base64 blobs cut down)."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:200]}…({len(value)} chars)"
    if isinstance(value, list):
        return [shorten(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    return value


def page(items: list, *, limit: str | None, after: str | None, key=lambda item: item["id"]):
    """(items of one page, has_more): the page after the item whose key is `after`."""
    if after:
        keys = [key(item) for item in items]
        items = items[keys.index(after) + 1 :] if after in keys else []
    size = max(1, min(int(limit), 10000)) if limit and str(limit).isdigit() else len(items) or 1
    return items[:size], len(items) > size


def listing(items: list, *, limit: str | None, after: str | None) -> dict:
    """One page of a cursor-paged list, as OpenAI and Anthropic answer it."""
    data, has_more = page(items, limit=limit, after=after)
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"data": data, "has_more": has_more, "first_id": first, "last_id": last}
