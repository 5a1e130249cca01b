"""OpenAI directly, with the official `openai` SDK: Files API and chat completions with
response_format json_schema. The SDK's own retries are off: our policy is the only retry loop."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import openai
from django.conf import settings

from llm.gateways.base import Gateway
from llm.gateways.payload import parse_json, read_base64, require_file, simulated
from llm.gateways.sdk import (
    catalog_cost,
    direct_model,
    health_from,
    mapped_errors,
    require_key,
    timeout_seconds,
)
from llm.types import Generation, GenerationRequest, RemoteFile, Usage


class OpenAIDirect(Gateway):
    route = "direct"
    name = "openai"

    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, timeout: float | None = None
    ):
        self.base_url = base_url or settings.OPENAI_BASE_URL or None
        self.timeout = timeout
        self.client = openai.OpenAI(
            api_key=require_key(self.name, api_key),
            base_url=self.base_url,
            max_retries=0,
            timeout=openai.Timeout(
                timeout_seconds(None, timeout), connect=settings.LLM_CONNECT_TIMEOUT_SECONDS
            ),
        )

    def __repr__(self) -> str:
        return f"OpenAIDirect(base_url={self.base_url!r})"

    def _timeout(self, request_timeout: float | None = None):
        return openai.Timeout(
            timeout_seconds(request_timeout, self.timeout),
            connect=settings.LLM_CONNECT_TIMEOUT_SECONDS,
        )

    def upload(self, path: Path, filename: str, mime: str, *, model: str = "") -> RemoteFile:
        # An open handle, not the path: the SDK would read a path whole into memory.
        with open(path, "rb") as handle, mapped_errors(self.name):
            created = self.client.files.create(
                file=(filename, handle, mime), purpose="user_data", timeout=self._timeout()
            )
        expires = getattr(created, "expires_at", None)
        return RemoteFile(
            id=created.id,
            bytes=int(created.bytes or path.stat().st_size),
            expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
        )

    def delete(self, remote_id: str, *, model: str = "") -> None:
        from llm.errors import FileGone

        try:
            with mapped_errors(self.name, file_id=remote_id):
                self.client.files.delete(remote_id, timeout=self._timeout())
        except FileGone:
            return

    def list_files(self) -> list[RemoteFile]:
        """Every file we keep at OpenAI (purpose user_data), for the orphan cleanup."""
        with mapped_errors(self.name):
            return [
                RemoteFile(
                    id=item.id,
                    bytes=int(item.bytes or 0),
                    expires_at=(
                        datetime.fromtimestamp(item.expires_at, UTC)
                        if getattr(item, "expires_at", None)
                        else None
                    ),
                )
                for item in self.client.files.list(purpose="user_data", timeout=self._timeout())
            ]

    def generate(self, request: GenerationRequest) -> Generation:
        file_id = require_file(request)
        if file_id:
            part = {"type": "file", "file": {"file_id": file_id}}
        else:
            data = read_base64(request.path)
            part = {
                "type": "file",
                "file": {
                    "filename": request.filename,
                    "file_data": f"data:{request.mime};base64,{data}",
                },
            }
        messages = [
            {"role": "user", "content": [part, {"type": "text", "text": request.instructions}]},
            *request.followups,
        ]
        started = time.perf_counter()
        with mapped_errors(self.name, file_id=file_id or None):
            raw = self.client.chat.completions.with_raw_response.create(
                model=direct_model(request.model),
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": request.schema_name,
                        "schema": request.schema,
                        "strict": True,
                    },
                },
                max_completion_tokens=request.max_output_tokens,
                timeout=self._timeout(request.timeout),
            )
            completion = raw.parse()
        latency_ms = int((time.perf_counter() - started) * 1000)
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content if choice else None) or ""
        usage = Usage(
            input_tokens=getattr(completion.usage, "prompt_tokens", None),
            output_tokens=getattr(completion.usage, "completion_tokens", None),
        )
        request_ids = {}
        if raw.headers.get("x-request-id"):
            request_ids["x-request-id"] = raw.headers["x-request-id"]
        if completion.id:
            request_ids["response_id"] = completion.id
        return Generation(
            text=text,
            model=completion.model or request.model,
            usage=usage,
            data=parse_json(text),
            cost_usd=catalog_cost(request.model, usage),
            latency_ms=latency_ms,
            request_ids=request_ids,
            finish_reason=choice.finish_reason if choice else None,
            simulated=simulated(raw.headers, text, completion.id),
        )

    def health(self) -> tuple[bool, str]:
        return health_from(
            lambda: self.client.models.list(timeout=self._timeout(5)), provider=self.name
        )
