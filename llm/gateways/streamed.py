"""Inline documents on the direct route, streamed: the request body goes out over httpx with the
PDF's base64 spliced in chunk by chunk (payload.streamed_json_with_file), as the proxy gateway
sends it. The SDKs take the document as one value (the whole base64 string, then its JSON):
~6 x the PDF in memory. The answer is parsed back into the SDK's own types, so each gateway
reads it as it reads an SDK answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from llm.conf import conf
from llm.gateways.http import error_from_httpx, transport_error
from llm.gateways.payload import streamed_json_with_file

_clients: dict[str, httpx.Client] = {}
_lock = threading.Lock()


def _client(base_url: str) -> httpx.Client:
    """One pooled client per host (connections reused across calls, like the SDK's)."""
    with _lock:
        client = _clients.get(base_url)
        if client is None:
            client = _clients[base_url] = httpx.Client(follow_redirects=False)
        return client


def post_with_file(
    *,
    provider: str,
    url: str,
    headers: dict[str, str],
    body: dict,
    path: Path,
    timeout: float,
) -> tuple[Any, httpx.Headers]:
    """POST `body` (with the file where payload's placeholder stands) to `url`: (JSON answer,
    response headers). HTTP errors and transport failures leave as llm.errors classes."""
    chunks, length = streamed_json_with_file(body, path)
    request_headers = {
        **headers,
        "Content-Type": "application/json",
        "Content-Length": str(length),
        "Accept": "application/json",
    }
    client = _client(str(httpx.URL(url).copy_with(path="/", query=None)))
    try:
        response = client.post(
            url,
            content=chunks,
            headers=request_headers,
            timeout=httpx.Timeout(timeout, connect=conf.LLM_CONNECT_TIMEOUT_SECONDS),
        )
    except httpx.TransportError as exc:
        raise transport_error(exc, route="direct", provider=provider) from exc
    if response.status_code >= 400:
        raise error_from_httpx(response, route="direct", provider=provider)
    return response.json(), response.headers
