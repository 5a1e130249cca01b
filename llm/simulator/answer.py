"""Provider-neutral answer building: the text, its finish kind and token counts."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .faults import Fault
from .fill import dumps, fill_schema, label_pairs, text_answer, violate
from .scripts import NOTHING

# Gemini bills a PDF page as 258 tokens; the simulator uses the same figure for every provider
# (plus the text layer's characters / 4), so document-token costs are visible and deterministic.
TOKENS_PER_PAGE = 258
# Hidden reasoning a thinking model bills as output (Gemini 2.5+/3 by default, OpenAI gpt-5/o*).
THINKING_TOKENS = 32


@dataclass
class Doc:
    text: str
    pages: int
    sha256: str = ""  # of the PDF's bytes (answers dictated per document are keyed by it)


# Per-request PDF page limits of the real APIs.
MAX_PAGES = {"openai": 100, "anthropic": 100, "gemini": 1000}


def too_many_pages(provider: str, docs: list[Doc]) -> int | None:
    """The limit, when the documents of one request exceed it."""
    limit = MAX_PAGES[provider]
    return limit if sum(d.pages for d in docs) > limit else None


@dataclass
class Answer:
    text: str
    value: Any  # the JSON value when a schema/JSON mode was asked for (None when malformed)
    truncated: bool
    text_tokens: int
    document_tokens: int
    output_tokens: int

    @property
    def input_tokens(self) -> int:
        return self.text_tokens + self.document_tokens


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def build(
    *,
    schema: dict | None,
    json_mode: bool,
    docs: list[Doc],
    prompt: str,
    fault,
    max_output_tokens: int | None = None,
    scripts=None,
) -> Answer:
    """The deterministic answer to one generation call (faults and the token limit applied);
    an answer a test dictated for one of the documents (`scripts`) replaces the filled value."""
    text_all = "\n".join(d.text for d in docs)
    value: Any = None
    scripted = scripts.take(docs) if scripts is not None else NOTHING
    if scripted is not NOTHING and (schema is not None or json_mode):
        value = scripted
    elif schema is not None:
        value = fill_schema(schema, text_all)
    elif json_mode:
        value = {
            "_".join(label)[:60]: val for label, val in label_pairs(text_all)[:20] if label
        } or {"answer": text_answer(text_all, sum(d.pages for d in docs), prompt)}
    kind = fault.kind if isinstance(fault, Fault) else None
    if value is not None or schema is not None:
        if kind == "schema_violation" and schema is not None:
            value = violate(value, schema)
        body = dumps(value)
    else:
        body = text_answer(text_all, sum(d.pages for d in docs), prompt)
    truncated = False
    if kind in ("malformed_json", "truncated"):
        body = body[: max(1, len(body) // 2)]
        if body.endswith("}") or body.endswith("]") or body in ("null", '""'):
            body = body[:-1] or "{"
        value = None
        truncated = kind == "truncated"
    if max_output_tokens and tokens(body) > max_output_tokens:
        # Like a real model hitting its limit: the text stops mid-way, finish reason says so.
        body = body[: max(1, max_output_tokens * 4)]
        value, truncated = None, True
    return Answer(
        text=body,
        value=value,
        truncated=truncated,
        text_tokens=tokens(prompt) + 8,
        document_tokens=sum(TOKENS_PER_PAGE * max(d.pages, 1) + tokens(d.text) for d in docs),
        output_tokens=max(1, tokens(body)),
    )


def retry_headers(fault: Fault) -> dict[str, str]:
    headers = {}
    if fault.retry_after is not None:
        headers["retry-after"] = str(fault.retry_after)
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    return headers


def data_url_bytes(url: str) -> bytes | None:
    import base64

    match = re.match(r"data:[^;,]*(;[^,]*)?,(.*)$", url or "", re.S)
    if not match:
        return None
    try:
        return base64.b64decode(match.group(2), validate=False)
    except ValueError:
        return None
