"""Routing: a model plus fallbacks becomes an ordered plan of routes.

plan = proxy(model), direct(model), proxy(fallback 1), direct(fallback 1), …
- no LITELLM_BASE_URL: no proxy routes;
- no key for a provider: no direct route for its models;
- a model whose per-request limits cannot take the document: none of its routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llm.catalog import ModelSpec, get_model, log_skipped_once, retired_error
from llm.conf import conf
from llm.errors import NoRouteAvailable, NoRouteFits
from llm.secrets import has_api_key
from llm.types import RouteName

# Base64 in the request body adds a third to the document's size.
INLINE_OVERHEAD = 4 / 3


@dataclass(frozen=True)
class Route:
    route: RouteName  # "proxy" | "direct"
    provider: str  # the model's provider: "openai", "gemini", "anthropic"
    model: str  # "provider/model" (the catalog name, also the proxy's model_name)
    gateway: str  # the gateway's name: "litellm" for the proxy, else the provider

    @property
    def key(self) -> str:
        return f"{self.route}:{self.provider}"

    def __str__(self) -> str:
        return f"{self.route}:{self.model}"


def proxy_configured() -> bool:
    return bool(conf.LITELLM_BASE_URL)


def fits(spec: ModelSpec, *, page_count: int, size_bytes: int, transport: str = "file") -> bool:
    effective = size_bytes * INLINE_OVERHEAD if transport == "inline" else size_bytes
    return page_count <= spec.max_pages and effective <= spec.max_bytes


def _describe_limits(spec: ModelSpec) -> str:
    return f"{spec.name} takes at most {spec.max_pages} pages and {_mb(spec.max_bytes)} per request"


def _mb(size: float) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def plan(
    model: str,
    fallbacks: Sequence[str] = (),
    page_count: int = 0,
    size_bytes: int = 0,
    *,
    transport: str = "file",
) -> list[Route]:
    """The ordered routes to try.

    Raises UnknownModel, ModelRetired, NoRouteFits or NoRouteAvailable.

    A retired model is never called: as the requested model it is refused (ModelRetired, naming
    its replacement); as a fallback it is skipped (logged once per process).
    """
    names = list(dict.fromkeys([model, *fallbacks]))
    specs = [get_model(name) for name in names]
    if specs[0].is_retired():
        raise retired_error(specs[0])
    for spec in specs[1:]:
        if spec.is_retired():
            log_skipped_once(spec)
    specs = [s for s in specs if not s.is_retired()]
    size = {"page_count": page_count, "size_bytes": size_bytes, "transport": transport}
    fitting = [s for s in specs if fits(s, **size)]
    if not fitting:
        limits = "; ".join(_describe_limits(s) for s in specs)
        inline = " (sent inline: +33% for base64)" if transport == "inline" else ""
        raise NoRouteFits(
            f"The document ({page_count} pages, {_mb(size_bytes)}{inline}) is too large for "
            f"every requested model: {limits}.",
            page_count=page_count,
            size_bytes=size_bytes,
            limits=[
                {"model": s.name, "max_pages": s.max_pages, "max_bytes": s.max_bytes} for s in specs
            ],
        )
    routes: list[Route] = []
    with_proxy = proxy_configured()
    for spec in fitting:
        if with_proxy:
            routes.append(Route("proxy", spec.provider, spec.name, "litellm"))
        if has_api_key(spec.provider):
            routes.append(Route("direct", spec.provider, spec.name, spec.provider))
    if not routes:
        raise NoRouteAvailable(
            "No route is configured for "
            f"{', '.join(s.name for s in fitting)}: set LITELLM_BASE_URL or a provider key "
            f"({', '.join(sorted({s.provider.upper() + '_API_KEY' for s in fitting}))})."
        )
    return routes
