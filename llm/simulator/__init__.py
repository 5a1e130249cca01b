"""A faithful, deterministic simulator of the OpenAI, Gemini and Anthropic HTTP APIs.

One HTTP server (`python manage.py runsimulator --port N`, or `testing.start_thread()` /
`testing.start_process()`), three providers under path prefixes:

- OpenAI at ``/openai/v1/…`` (files, chat completions, models) — base URL ``<url>/openai/v1``;
- Gemini at ``/gemini/…`` (host root: resumable ``/upload/{v1beta,v1}/files``,
  ``/{v1beta,v1}/files/{id}``, ``[/{v1beta,v1}]/models/{m}:generateContent``) — base URL
  ``<url>/gemini``;
- Anthropic at ``/anthropic/v1/…`` (files beta, messages, models) — base URL ``<url>/anthropic``;
- the control endpoint at ``/_control/…`` (faults, latency, chaos, request log; control.py).

How it marks itself as simulated (so results can be labelled):
- every response carries the header ``x-simulator: remorai`` (through LiteLLM:
  ``llm_provider-x-simulator: remorai``);
- ids contain "sim": OpenAI ``chatcmpl-sim…`` with ``system_fingerprint: "fp_remorai_sim"``,
  files ``file-sim…``; Gemini ``responseId: "sim-…"``, files ``files/sim…``; Anthropic
  ``msg_sim…``, ``toolu_sim…``, files ``file_011sim…``, request ids ``req_sim…``;
- a plain-text answer starts with "[simulated by remorai]".
The model name in answers is the requested one (so LiteLLM's cost map still prices it).

Answers: JSON valid against the requested schema, filled deterministically from the PDF's text
layer (pypdf; "Label: value" lines matched to property names; fill.py). Usage is estimated: a PDF
page counts 258 tokens plus its text's characters / 4 (Gemini reports them as DOCUMENT modality).

Auth: a non-empty key is required (OpenAI Bearer → 401; Gemini x-goog-api-key or ?key= → 403
PERMISSION_DENIED like the real API; Anthropic x-api-key → 401). POST /_control/settings
{"keys": {...}} pins the accepted key per provider (wrong key: OpenAI 401 invalid_api_key, Gemini
400 API_KEY_INVALID, Anthropic 401).

Missing/expired files: OpenAI 404 "No such File object", Anthropic 404 not_found_error, Gemini
403 PERMISSION_DENIED "You do not have permission to access the File … or it may not exist."
"""
