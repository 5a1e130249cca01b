"""Gemini directly, with the official `google-genai` SDK: Files API (waiting for ACTIVE) and
generateContent with response_mime_type application/json + response_json_schema.

The remote id is the file's resource name ("files/abc123"); its URI is derived from it. Gemini
expires every file after 48 h; a 403/404 on it then raises FileGone.
"""

from __future__ import annotations

import time
from pathlib import Path

from google import genai
from google.genai import types

from llm.errors import RequestRejected, RetryableError
from llm.gateways.payload import FILE_PLACEHOLDER, require_file, simulated
from llm.gateways.sdk import DirectGateway, direct_model, mapped_errors
from llm.gateways.streamed import post_with_file
from llm.types import Generation, GenerationRequest, RemoteFile, Usage

FILE_URI_PREFIX = "https://generativelanguage.googleapis.com/v1beta/"
# Waiting for an uploaded file to become ACTIVE: poll at growing intervals, for at most this long.
ACTIVE_POLL_INTERVALS = (0.2, 0.5, 1.0, 2.0)
ACTIVE_WAIT_SECONDS = 120.0


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _state(file: types.File) -> str:
    state = file.state
    return str(getattr(state, "value", state) or "")


class GeminiDirect(DirectGateway):
    name = "gemini"
    base_url_setting = "GEMINI_BASE_URL"

    def make_client(self, api_key: str) -> genai.Client:
        return genai.Client(
            api_key=api_key,
            vertexai=False,
            # retry_options None: the SDK makes a single attempt; our policy retries.
            http_options=types.HttpOptions(base_url=self.base_url, timeout=_ms(self.seconds())),
        )

    def _options(self, request_timeout: float | None = None) -> types.HttpOptions:
        return types.HttpOptions(timeout=_ms(self.seconds(request_timeout)))

    def upload(self, path: Path, filename: str, mime: str, *, model: str = "") -> RemoteFile:
        # An open handle: the SDK streams it in chunks (resumable upload). No per-call
        # http_options here: the SDK would then send the chunks without the key header.
        with open(path, "rb") as handle, mapped_errors(self.name):
            file = self.client.files.upload(
                file=handle, config=types.UploadFileConfig(mime_type=mime, display_name=filename)
            )
        file = self._wait_active(file)
        return RemoteFile(
            id=file.name,
            bytes=int(file.size_bytes or path.stat().st_size),
            expires_at=file.expiration_time,
        )

    def _wait_active(self, file: types.File) -> types.File:
        """Poll the uploaded file until ACTIVE (bounded); FAILED is a rejected document."""
        deadline = time.monotonic() + min(ACTIVE_WAIT_SECONDS, self.seconds())
        polls = 0
        while _state(file) not in ("ACTIVE", "", "STATE_UNSPECIFIED"):
            if _state(file) == "FAILED":
                reason = getattr(file.error, "message", "") if file.error else ""
                raise RequestRejected(
                    f"gemini could not process the file {file.name}: {reason or 'FAILED'}.",
                    reason="file_failed",
                )
            if time.monotonic() >= deadline:
                raise RetryableError(
                    f"gemini file {file.name} still {_state(file)} after upload.",
                    reason="file_not_active",
                )
            time.sleep(ACTIVE_POLL_INTERVALS[min(polls, len(ACTIVE_POLL_INTERVALS) - 1)])
            polls += 1
            with mapped_errors(self.name, file_id=file.name):
                file = self.client.files.get(
                    name=file.name, config=types.GetFileConfig(http_options=self._options())
                )
        return file

    def delete_file(self, remote_id: str) -> None:
        self.client.files.delete(
            name=remote_id, config=types.DeleteFileConfig(http_options=self._options())
        )

    def list_files(self) -> list[RemoteFile]:
        with mapped_errors(self.name):
            return [
                RemoteFile(id=f.name, bytes=int(f.size_bytes or 0), expires_at=f.expiration_time)
                for f in self.client.files.list(
                    config=types.ListFilesConfig(page_size=100, http_options=self._options())
                )
            ]

    def generate(self, request: GenerationRequest) -> Generation:
        file_id = require_file(request)
        if not file_id:  # inline (≤ 50 MB per request at Gemini): streamed, see streamed.py
            return self._generate_inline(request)
        document = types.Part.from_uri(file_uri=FILE_URI_PREFIX + file_id, mime_type=request.mime)
        contents = [
            types.Content(role="user", parts=[document, types.Part(text=request.instructions)]),
            *(
                types.Content(
                    role="model" if turn["role"] == "assistant" else "user",
                    parts=[types.Part(text=turn["content"])],
                )
                for turn in request.followups
            ),
        ]
        started = time.perf_counter()
        with mapped_errors(self.name, file_id=file_id):
            response = self.client.models.generate_content(
                model=direct_model(request.model),
                contents=contents,
                config=types.GenerateContentConfig(
                    response_mime_type="application/json",
                    response_json_schema=request.schema,
                    max_output_tokens=request.max_output_tokens,
                    http_options=self._options(request.timeout),
                ),
            )
        headers = getattr(response.sdk_http_response, "headers", None) or {}
        return self._generation(request, response, headers, started)

    def _generate_inline(self, request: GenerationRequest) -> Generation:
        """The REST body the SDK would send, the document's base64 streamed into it."""
        body = self.rest_body(
            request, {"inlineData": {"mimeType": request.mime, "data": FILE_PLACEHOLDER}}
        )
        options = self.client._api_client._http_options  # noqa: SLF001 - the SDK's own host
        base = (options.base_url or "https://generativelanguage.googleapis.com/").rstrip("/")
        started = time.perf_counter()
        answer, headers = post_with_file(
            provider=self.name,
            url=f"{base}/{options.api_version}/models/{direct_model(request.model)}:generateContent",
            headers={k: v for k, v in (options.headers or {}).items() if isinstance(v, str)},
            body=body,
            path=request.path,
            timeout=self.seconds(request.timeout),
        )
        response = types.GenerateContentResponse.model_validate(answer)
        return self._generation(request, response, headers, started)

    def rest_body(self, request: GenerationRequest, document: dict) -> dict:
        """The generateContent REST body for `request`, the document as the `document` part
        (inline data, or a file's URI in a batch)."""
        followups = [
            {
                "role": "model" if turn["role"] == "assistant" else "user",
                "parts": [{"text": turn["content"]}],
            }
            for turn in request.followups
        ]
        return {
            "contents": [
                {"role": "user", "parts": [document, {"text": request.instructions}]},
                *followups,
            ],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": request.schema,
                "maxOutputTokens": request.max_output_tokens,
            },
        }

    def _generation(self, request, response, headers, started: float) -> Generation:
        latency_ms = int((time.perf_counter() - started) * 1000)
        return self.generation_from(response, headers, model=request.model, latency_ms=latency_ms)

    def generation_from(
        self, response: types.GenerateContentResponse, headers, *, model: str, latency_ms: int = 0
    ) -> Generation:
        """Our Generation for a response (a direct answer, or one result of a batch's)."""
        candidate = response.candidates[0] if response.candidates else None
        parts = (candidate.content.parts if candidate and candidate.content else None) or []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        usage = _usage(response.usage_metadata)
        request_ids = {"response_id": response.response_id} if response.response_id else {}
        finish = getattr(candidate, "finish_reason", None)
        return Generation(
            text=text,
            model=response.model_version or model,
            usage=usage,
            latency_ms=latency_ms,
            request_ids=request_ids,
            finish_reason=str(getattr(finish, "value", finish)) if finish else None,
            simulated=simulated(headers, text, response.response_id),
        )

    def list_models(self) -> None:
        self.client.models.list(
            config=types.ListModelsConfig(page_size=1, http_options=self._options(5))
        )


def _usage(meta: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    """Tokens as billed: thinking counts as output; the PDF's DOCUMENT-modality share of the
    prompt is reported separately (priced at the catalog's document price)."""
    if meta is None:
        return Usage()
    document = None
    for detail in meta.prompt_tokens_details or ():
        modality = getattr(detail.modality, "value", detail.modality)
        if str(modality) == "DOCUMENT":
            document = (document or 0) + (detail.token_count or 0)
    output = None
    if meta.candidates_token_count is not None or meta.thoughts_token_count is not None:
        output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return Usage(
        input_tokens=meta.prompt_token_count, output_tokens=output, document_tokens=document
    )
