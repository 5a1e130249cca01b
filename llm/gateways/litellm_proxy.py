"""The LiteLLM proxy over plain httpx: OpenAI-shaped files and chat completions.

One httpx.Client per base URL for the whole process (connection reuse); each method is exactly
one HTTP call. Wire facts are checked against the real proxy by tests/llm/test_proxy_real.py.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from llm.conf import conf
from llm.errors import ConfigurationError, FileGone
from llm.gateways.base import Gateway
from llm.gateways.http import error_from_httpx, timeout_for, transport_error
from llm.gateways.payload import (
    chat_messages,
    inline_data_url,
    require_file,
    simulated,
    streamed_json_with_file,
)
from llm.secrets import get_api_key
from llm.types import Generation, GenerationRequest, RemoteFile, Usage
from remorai.logging import register_secret

logger = logging.getLogger("llm.gateways")

GEMINI_FILE_LIFETIME = timedelta(hours=48)
_REQUEST_ID_HEADERS = (
    "x-litellm-call-id",
    "x-request-id",
    "llm_provider-x-request-id",
    "llm_provider-request-id",
)

_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(base_url: str) -> httpx.Client:
    """The process-wide client for `base_url` (keeps connections alive between calls)."""
    client = _clients.get(base_url)
    if client is None:
        with _clients_lock:
            client = _clients.get(base_url)
            if client is None:
                client = httpx.Client(
                    base_url=base_url,
                    timeout=timeout_for(),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                )
                _clients[base_url] = client
    return client


class LiteLLMProxy(Gateway):
    route = "proxy"
    name = "litellm"

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
    ):
        self.base_url = (base_url or conf.LITELLM_BASE_URL).rstrip("/")
        if not self.base_url:
            raise ConfigurationError("LITELLM_BASE_URL is not set: the proxy route is off.")
        if api_key is None:
            api_key = get_api_key("litellm")
        register_secret(api_key)
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = shared_client(self.base_url)

    def __repr__(self) -> str:  # never the key
        return f"LiteLLMProxy(base_url={self.base_url!r})"

    # --- one HTTP call, errors mapped ----------------------------------------------------------

    def _send(self, method: str, path: str, *, file_id: str | None = None, timeout=None, **kw):
        try:
            response = self._client.request(
                method,
                path,
                headers={**self._headers, **kw.pop("headers", {})},
                timeout=timeout_for(timeout or self.timeout),
                **kw,
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, route="proxy", provider=self.name) from exc
        if response.is_error:
            raise error_from_httpx(
                response,
                route="proxy",
                provider=self.name,
                file_id=file_id,
                request_id=_request_id(response.headers),
            )
        return response

    # --- Gateway -------------------------------------------------------------------------------

    def upload(self, path: Path, filename: str, mime: str, *, model: str) -> RemoteFile:
        with open(path, "rb") as handle:  # httpx streams the handle in chunks
            response = self._send(
                "POST",
                "/v1/files",
                files={"file": (filename, handle, mime)},
                data={"purpose": "user_data", "model": model},
            )
        body = response.json()
        return RemoteFile(
            id=body["id"],
            bytes=int(body.get("bytes") or path.stat().st_size),
            expires_at=_expires_at(body, model),
        )

    def delete(self, remote_id: str, *, model: str = "") -> None:
        try:
            self._send("DELETE", f"/v1/files/{quote(remote_id, safe='=-_.')}", file_id=remote_id)
        except FileGone:
            return  # already deleted, or expired

    def generate(self, request: GenerationRequest) -> Generation:
        file_id = require_file(request)
        if file_id:
            part: dict[str, Any] = {
                "type": "file",
                "file": {"file_id": file_id, "format": request.mime},
            }
        else:
            part = {
                "type": "file",
                "file": {"file_data": inline_data_url(request.mime), "filename": request.filename},
            }
        body = {
            "model": request.model,
            **chat_messages(request, part),
            "max_tokens": request.max_output_tokens,
        }
        started = time.perf_counter()
        if file_id:
            response = self._send(
                "POST", "/v1/chat/completions", json=body, file_id=file_id, timeout=request.timeout
            )
        else:
            chunks, length = streamed_json_with_file(body, request.path)
            response = self._send(
                "POST",
                "/v1/chat/completions",
                content=chunks,
                headers={"Content-Type": "application/json", "Content-Length": str(length)},
                timeout=request.timeout,
            )
        latency_ms = int((time.perf_counter() - started) * 1000)
        return _generation(response, request.model, latency_ms)

    def served_models(self) -> tuple[list[dict], list[dict]]:
        """The proxy's own description of its models: (/model/info data, /v1/models data)."""
        info = self._send("GET", "/model/info").json().get("data") or []
        listed = self._send("GET", "/v1/models").json().get("data") or []
        return list(info), list(listed)

    def health(self) -> tuple[bool, str]:
        try:
            response = self._client.get(
                "/health/readiness", timeout=timeout_for(conf.LLM_CONNECT_TIMEOUT_SECONDS)
            )
        except httpx.HTTPError as exc:
            return False, f"LiteLLM proxy at {self.base_url} unreachable ({type(exc).__name__})"
        if response.status_code != 200:
            status = response.status_code
            return False, f"LiteLLM proxy at {self.base_url} not ready (HTTP {status})"
        try:
            info = response.json()
        except ValueError:
            info = {}
        version = info.get("litellm_version") if isinstance(info, dict) else None
        return True, "ready" + (f" (litellm {version})" if version else "")


def _request_id(headers) -> str:
    for name in _REQUEST_ID_HEADERS:
        if headers.get(name):
            return headers[name]
    return ""


def _expires_at(body: dict, model: str) -> datetime | None:
    expires = body.get("expires_at")
    if expires:
        try:
            return datetime.fromtimestamp(int(expires), UTC)
        except (TypeError, ValueError, OverflowError):
            pass
    if model.startswith("gemini/"):  # Google expires every file after 48 h
        created = body.get("created_at")
        try:
            start = datetime.fromtimestamp(int(created), UTC) if created else None
        except (TypeError, ValueError, OverflowError):
            start = None
        return (start or datetime.now(UTC)) + GEMINI_FILE_LIFETIME
    return None


def _generation(response: httpx.Response, model: str, latency_ms: int) -> Generation:
    body = response.json()
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    text = message.get("content")
    if not text:  # a forced json_tool_call that the proxy did not fold back into content
        calls = message.get("tool_calls") or []
        if calls:
            text = (calls[0].get("function") or {}).get("arguments")
    text = text or ""
    usage = body.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    headers = response.headers
    request_ids = {name: headers[name] for name in _REQUEST_ID_HEADERS if headers.get(name)}
    if body.get("id"):
        request_ids["response_id"] = str(body["id"])
    return Generation(
        text=text,
        model=str(body.get("model") or model),
        usage=Usage(
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            document_tokens=details.get("document_tokens") if isinstance(details, dict) else None,
        ),
        cost_usd=_cost(headers.get("x-litellm-response-cost")),
        latency_ms=latency_ms,
        request_ids=request_ids,
        finish_reason=choice.get("finish_reason"),
        simulated=simulated(headers, text, body.get("id")),
    )


def _cost(value: str | None) -> Decimal | None:
    if value in (None, "", "None"):
        return None
    try:
        cost = Decimal(value)
    except InvalidOperation:
        return None
    return cost if cost.is_finite() else None
