"""OpenAI directly, with the official `openai` SDK: Files API and chat completions with
response_format json_schema. The SDK's own retries are off: our policy is the only retry loop."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import openai
from openai.types.chat import ChatCompletion

from llm.conf import conf
from llm.gateways.payload import chat_messages, inline_data_url, require_file, simulated
from llm.gateways.sdk import DirectGateway, direct_model, mapped_errors
from llm.gateways.streamed import post_with_file
from llm.types import Generation, GenerationRequest, RemoteFile, Usage


class OpenAIDirect(DirectGateway):
    name = "openai"
    base_url_setting = "OPENAI_BASE_URL"

    def make_client(self, api_key: str) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=api_key, base_url=self.base_url, max_retries=0, timeout=self._timeout()
        )

    def _timeout(self, request_timeout: float | None = None) -> openai.Timeout:
        return openai.Timeout(
            self.seconds(request_timeout), connect=conf.LLM_CONNECT_TIMEOUT_SECONDS
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

    def delete_file(self, remote_id: str) -> None:
        self.client.files.delete(remote_id, timeout=self._timeout())

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

    @staticmethod
    def chat_params(request: GenerationRequest, part: dict) -> dict:
        """The chat completion body for `request`, the document as `part` (also a batch line's)."""
        return {
            "model": direct_model(request.model),
            **chat_messages(request, part),
            "max_completion_tokens": request.max_output_tokens,
        }

    def generate(self, request: GenerationRequest) -> Generation:
        file_id = require_file(request)
        if file_id:
            part = {"type": "file", "file": {"file_id": file_id}}
        else:  # the placeholder is filled in as the body streams out (streamed.py)
            part = {
                "type": "file",
                "file": {"filename": request.filename, "file_data": inline_data_url(request.mime)},
            }
        params = self.chat_params(request, part)
        started = time.perf_counter()
        if file_id:
            with mapped_errors(self.name, file_id=file_id):
                raw = self.client.chat.completions.with_raw_response.create(
                    **params, timeout=self._timeout(request.timeout)
                )
                completion, headers = raw.parse(), raw.headers
        else:
            body, headers = post_with_file(
                provider=self.name,
                url=f"{self.client.base_url}chat/completions",
                headers={**self.client.auth_headers, "User-Agent": self.client.user_agent},
                body=params,
                path=request.path,
                timeout=self.seconds(request.timeout),
            )
            completion = ChatCompletion.model_validate(body)
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self.generation_from(completion, headers, model=request.model, latency_ms=latency_ms)

    @staticmethod
    def generation_from(
        completion: ChatCompletion, headers, *, model: str, latency_ms: int = 0
    ) -> Generation:
        """Our Generation for a chat completion (a direct answer, or one line of a batch's)."""
        choice = completion.choices[0] if completion.choices else None
        text = (choice.message.content if choice else None) or ""
        usage = Usage(
            input_tokens=getattr(completion.usage, "prompt_tokens", None),
            output_tokens=getattr(completion.usage, "completion_tokens", None),
        )
        request_ids = {}
        if headers.get("x-request-id"):
            request_ids["x-request-id"] = headers["x-request-id"]
        if completion.id:
            request_ids["response_id"] = completion.id
        return Generation(
            text=text,
            model=completion.model or model,
            usage=usage,
            latency_ms=latency_ms,
            request_ids=request_ids,
            finish_reason=choice.finish_reason if choice else None,
            simulated=simulated(headers, text, completion.id),
        )

    def list_models(self) -> None:
        self.client.models.list(timeout=self._timeout(5))
