"""The LLM layer's value types: frozen dataclasses passed between gateways, policy and callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

RouteName = Literal["proxy", "direct"]
TransportName = Literal["file", "inline"]


@dataclass(frozen=True)
class RemoteFile:
    """A file held by a provider (or by the proxy on its behalf)."""

    id: str
    bytes: int
    expires_at: datetime | None = None


@dataclass(frozen=True)
class GenerationRequest:
    model: str  # "provider/model", e.g. "gemini/gemini-2.5-flash"
    instructions: str
    schema: dict[str, Any]
    schema_name: str = "extraction"
    # transport "file": the document is referenced by `file`; "inline": read from `path`.
    transport: TransportName = "file"
    file: RemoteFile | None = None
    path: Path | None = None
    filename: str = "document.pdf"
    mime: str = "application/pdf"
    # Extra conversation turns for the repair turn: [{"role": "assistant"|"user", "content": str}]
    followups: tuple[dict[str, str], ...] = ()
    max_output_tokens: int = 4096
    timeout: float | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    document_tokens: int | None = None


@dataclass(frozen=True)
class Generation:
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    # The answer as data once llm.validation parsed and validated it; from a gateway, only an
    # answer that arrived already parsed (Anthropic's tool_use input).
    data: Any = None
    cost_usd: Decimal | None = None
    cost_source: str = ""  # "proxy" (reported by the proxy), "catalog" (our prices) or ""
    latency_ms: int = 0
    request_ids: dict[str, str] = field(default_factory=dict)
    finish_reason: str | None = None
    simulated: bool = False


@dataclass(frozen=True)
class Attempt:
    """One call to one gateway, reported to the caller whatever its outcome."""

    route: RouteName
    provider: str
    model: str
    operation: Literal["upload", "generate", "repair", "delete"]
    started_at: datetime
    latency_ms: int
    outcome: str  # "ok", "retry", "fallback", "failed", "file_gone", "invalid_output"
    http_status: int | None = None
    error_code: str = ""  # the llm.errors class code, never the provider's
    provider_code: str = ""  # the provider's own code for it, when it gave one
    error_message: str = ""
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal | None = None
    cost_source: str = ""
    request_id: str = ""
    simulated: bool = False  # answered (or refused) by the provider simulator
