"""What `manage.py llm_check` reports: per model and route, whether it can serve."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfWriter

from llm.catalog import get_model, model_names
from llm.conf import conf
from llm.errors import LLMError
from llm.gateways import get_gateway
from llm.routing import proxy_configured
from llm.secrets import has_api_key
from llm.types import GenerationRequest
from llm.validation import validate_generation
from remorai.logging import redact

LIVE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


@dataclass
class RouteStatus:
    model: str
    route: str
    provider: str
    key_present: bool
    reachable: bool | None = None
    live_ok: bool | None = None
    detail: str = ""
    deprecated: str = ""

    @property
    def can_serve(self) -> bool:
        return bool(self.key_present and self.reachable and self.live_ok is not False)


def route_statuses(*, models: list[str] | None = None, live: bool = False) -> list[RouteStatus]:
    names = models or model_names()
    health: dict[tuple[str, str], tuple[bool, str]] = {}
    statuses = []
    with tempfile.TemporaryDirectory(prefix="llm-check-") as tmp:
        pdf = _tiny_pdf(Path(tmp) / "llm-check.pdf") if live else None
        for name in names:
            spec = get_model(name)
            for route in (["proxy"] if proxy_configured() else []) + ["direct"]:
                key_name = "litellm" if route == "proxy" else spec.provider
                status = RouteStatus(
                    model=name,
                    route=route,
                    provider=spec.provider,
                    key_present=has_api_key(key_name),
                    deprecated=spec.deprecated,
                )
                statuses.append(status)
                if not status.key_present:
                    status.detail = f"no {key_name.upper()}_API_KEY"
                    continue
                cache_key = (route, "" if route == "proxy" else spec.provider)
                if cache_key not in health:
                    health[cache_key] = _health(route, spec.provider)
                status.reachable, status.detail = health[cache_key]
                if live and status.reachable:
                    status.live_ok, status.detail = _live(route, spec.provider, name, pdf)
    return statuses


def _health(route: str, provider: str) -> tuple[bool, str]:
    try:
        ok, detail = get_gateway(route, provider).health()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return False, f"{type(exc).__name__}: {redact(str(exc))[:200]}"
    return ok, redact(detail)


def _live(route: str, provider: str, model: str, pdf: Path) -> tuple[bool, str]:
    request = GenerationRequest(
        model=model,
        instructions='Reply with the JSON object {"ok": true}.',
        schema=LIVE_SCHEMA,
        schema_name="llm_check",
        transport="inline",
        path=pdf,
        filename=pdf.name,
        max_output_tokens=64,
        timeout=conf.LLM_TIMEOUT_SECONDS,
    )
    try:
        generation = get_gateway(route, provider).generate(request)
        validate_generation(generation, LIVE_SCHEMA)
    except LLMError as exc:
        status = f"HTTP {exc.http_status} " if exc.http_status else ""
        finer = exc.provider_code or exc.reason
        code = f"{exc.code} ({finer})" if finer else exc.code
        return False, f"{status}{code}: {redact(str(exc.detail))[:200]}"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return False, f"{type(exc).__name__}: {redact(str(exc))[:200]}"
    simulated = " (simulated)" if generation.simulated else ""
    return True, f"answered in {generation.latency_ms} ms{simulated}"


def _tiny_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with path.open("wb") as handle:
        writer.write(handle)
    return path
