"""Anthropic directly, with the official `anthropic` SDK: Files API (beta files-api-2025-04-14)
and Messages with native structured output (output_config.format json_schema). An answer given
as a forced `json_tool_call` tool (older models, or a proxy's translation) is read as well."""

from __future__ import annotations

import json
import time
from pathlib import Path

import anthropic
from anthropic.types.beta import BetaMessage

from llm.conf import conf
from llm.gateways.payload import FILE_PLACEHOLDER, require_file, simulated
from llm.gateways.sdk import DirectGateway, direct_model, mapped_errors
from llm.gateways.streamed import post_with_file
from llm.types import Generation, GenerationRequest, RemoteFile, Usage

FILES_BETA = "files-api-2025-04-14"
TOOL_NAME = "json_tool_call"


class AnthropicDirect(DirectGateway):
    name = "anthropic"
    base_url_setting = "ANTHROPIC_BASE_URL"

    def make_client(self, api_key: str) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, max_retries=0, timeout=self._timeout()
        )

    def _timeout(self, request_timeout: float | None = None) -> anthropic.Timeout:
        return anthropic.Timeout(
            self.seconds(request_timeout), connect=conf.LLM_CONNECT_TIMEOUT_SECONDS
        )

    def upload(self, path: Path, filename: str, mime: str, *, model: str = "") -> RemoteFile:
        # An open handle, not the path: the SDK would read a path whole into memory.
        with open(path, "rb") as handle, mapped_errors(self.name):
            meta = self.client.beta.files.upload(
                file=(filename, handle, mime), betas=[FILES_BETA], timeout=self._timeout()
            )
        return RemoteFile(
            id=meta.id,
            bytes=int(meta.size_bytes or path.stat().st_size),
            expires_at=meta.expires_at,
        )

    def delete_file(self, remote_id: str) -> None:
        self.client.beta.files.delete(remote_id, betas=[FILES_BETA], timeout=self._timeout())

    def list_files(self) -> list[RemoteFile]:
        with mapped_errors(self.name):
            return [
                RemoteFile(id=f.id, bytes=int(f.size_bytes or 0), expires_at=f.expires_at)
                for f in self.client.beta.files.list(betas=[FILES_BETA], timeout=self._timeout())
            ]

    def message_params(self, request: GenerationRequest, source: dict) -> dict:
        """The Messages body for `request`, the document from `source` (also a batch item's)."""
        messages = [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": source},
                    {"type": "text", "text": request.instructions},
                ],
            },
            *request.followups,
        ]
        return {
            "model": direct_model(request.model),
            "max_tokens": request.max_output_tokens,
            "messages": messages,
            "output_config": {"format": {"type": "json_schema", "schema": request.schema}},
        }

    def generate(self, request: GenerationRequest) -> Generation:
        file_id = require_file(request)
        if file_id:
            source = {"type": "file", "file_id": file_id}
        else:
            source = {"type": "base64", "media_type": request.mime, "data": FILE_PLACEHOLDER}
        params = self.message_params(request, source)
        started = time.perf_counter()
        if file_id:
            with mapped_errors(self.name, file_id=file_id):
                raw = self.client.beta.messages.with_raw_response.create(
                    **params, timeout=self._timeout(request.timeout), betas=[FILES_BETA]
                )
                message, headers = raw.parse(), raw.headers
        else:  # streamed (streamed.py); no anthropic-beta header on inline requests
            body, headers = post_with_file(
                provider=self.name,
                url=f"{str(self.client.base_url).rstrip('/')}/v1/messages",
                headers=_sdk_headers(self.client),
                body=params,
                path=request.path,
                timeout=self.seconds(request.timeout),
            )
            message = BetaMessage.model_validate(body)
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self.generation_from(message, headers, model=request.model, latency_ms=latency_ms)

    def generation_from(
        self, message: BetaMessage, headers, *, model: str, latency_ms: int = 0
    ) -> Generation:
        """Our Generation for a message (a direct answer, or one result of a batch's)."""
        text, data = _answer(message.content)
        usage = Usage(
            input_tokens=_input_tokens(message.usage),
            output_tokens=message.usage.output_tokens if message.usage else None,
        )
        request_ids = {}
        if headers.get("request-id"):
            request_ids["request-id"] = headers["request-id"]
        if message.id:
            request_ids["response_id"] = message.id
        return Generation(
            text=text,
            model=message.model or model,
            usage=usage,
            data=data,
            latency_ms=latency_ms,
            request_ids=request_ids,
            finish_reason=message.stop_reason,
            simulated=simulated(headers, text, message.id),
        )

    def list_models(self) -> None:
        self.client.models.list(limit=1, timeout=self._timeout(5))


def _sdk_headers(client) -> dict[str, str]:
    """The headers the SDK itself sends (key, version, user agent), for the streamed call."""
    return {k: v for k, v in client.default_headers.items() if isinstance(v, str)}


def _answer(blocks) -> tuple[str, object]:
    """(text, data) from the content blocks: a json_tool_call's input arrives parsed (data, and
    its JSON as the text kept); otherwise the text, parsed later by validation (data None)."""
    for block in blocks or ():
        if getattr(block, "type", "") == "tool_use" and block.name == TOOL_NAME:
            return json.dumps(block.input), block.input
    text = "".join(b.text for b in blocks or () if getattr(b, "type", "") == "text")
    return text, None


def _input_tokens(usage) -> int | None:
    """All prompt tokens, cached ones included (Anthropic reports them apart)."""
    if usage is None or usage.input_tokens is None:
        return None
    return (
        usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )
