"""What the direct (official SDK) gateways share: SDK exceptions → llm.errors, timeouts (the
cost of a call is the policy's: llm.policy.with_cost)."""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
from collections.abc import Iterator

import httpx

from llm.conf import conf
from llm.errors import (
    ConfigurationError,
    FileGone,
    LLMError,
    RetryableError,
    RouteUnavailable,
)
from llm.gateways.base import Gateway
from llm.gateways.http import error_from_response, parse_body, transport_error
from remorai.logging import register_secret

logger = logging.getLogger("llm.gateways")


@functools.cache
def _transport_classes() -> tuple[type[BaseException], ...]:
    """Timeouts and connection failures of every HTTP stack the SDKs use."""
    classes: list[type[BaseException]] = [httpx.TransportError, TimeoutError, ConnectionError]
    for module, attr in (
        ("httpx2", "TransportError"),
        ("openai", "APIConnectionError"),
        ("anthropic", "APIConnectionError"),
    ):
        with contextlib.suppress(ImportError, AttributeError):
            classes.append(getattr(importlib.import_module(module), attr))
    return tuple(classes)


def timeout_seconds(request_timeout: float | None, default: float | None) -> float:
    return float(request_timeout or default or conf.LLM_TIMEOUT_SECONDS)


def _response_of(exc: BaseException):
    response = getattr(exc, "response", None)
    if response is not None and isinstance(getattr(response, "status_code", None), int):
        return response
    return None


def _request_id(headers) -> str:
    for name in ("x-request-id", "request-id", "x-goog-request-id"):
        value = headers.get(name)
        if value:
            return value
    return ""


def map_sdk_error(exc: BaseException, *, provider: str, file_id: str | None = None) -> LLMError:
    """The llm.errors instance for an exception raised by the openai, anthropic or google-genai
    SDK (or by the HTTP library under it). Unknown exceptions are returned as they are: a bug,
    not a provider answer, so the policy does not retry them."""
    if isinstance(exc, LLMError):
        return exc
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):  # google-genai APIError keeps the status in .code
        code = getattr(exc, "code", None)
        status = code if isinstance(code, int) and 100 <= code < 600 else None
    response = _response_of(exc)
    if status is None and response is not None and response.status_code >= 400:
        status = response.status_code
    if status is not None and status >= 400:
        headers = response.headers if response is not None else {}
        body = None
        if response is not None:
            with contextlib.suppress(Exception):
                body = parse_body(response.content)
        if body is None:  # google-genai keeps the parsed body in .details
            details = getattr(exc, "details", None)
            body = details if isinstance(details, dict) else getattr(exc, "body", None)
        return error_from_response(
            status,
            headers,
            body,
            route="direct",
            provider=provider,
            file_id=file_id,
            request_id=_request_id(headers),
        )
    if isinstance(exc, _transport_classes()):
        return transport_error(exc, route="direct", provider=provider)
    return exc  # type: ignore[return-value]


@contextlib.contextmanager
def mapped_errors(provider: str, *, file_id: str | None = None) -> Iterator[None]:
    """Run an SDK call; whatever it raises leaves as an llm.errors class (see map_sdk_error)."""
    try:
        yield
    except Exception as exc:
        mapped = map_sdk_error(exc, provider=provider, file_id=file_id)
        if mapped is exc:
            raise
        raise mapped from exc


def require_key(provider: str, api_key: str | None) -> str:
    if api_key is None:
        from llm.secrets import get_api_key

        api_key = get_api_key(provider)
    if not api_key:
        raise ConfigurationError(
            f"No API key for {provider}: set {provider.upper()}_API_KEY (or LLM_SECRETS_ID)."
        )
    register_secret(api_key)  # masked in every log line, whoever passed it in
    return api_key


def direct_model(model: str) -> str:
    """The provider's own model id for a catalog name ("openai/gpt-4o" → "gpt-4o")."""
    from llm.catalog import get_model

    return get_model(model).direct_model


def health_from(call, *, provider: str) -> tuple[bool, str]:
    """Whether a cheap listing call answers: reachable and the key accepted."""
    try:
        call()
    except Exception as exc:
        mapped = map_sdk_error(exc, provider=provider)
        status = getattr(mapped, "http_status", None)
        if isinstance(mapped, RouteUnavailable) and status != 404:
            return False, f"{provider} refused the key (HTTP {status})"
        if status is not None and status < 500:
            return True, f"{provider} reachable (HTTP {status} on the listing)"
        if isinstance(mapped, RetryableError):
            return False, f"{provider} unreachable ({mapped.code}, HTTP {status or '-'})"
        return False, f"{provider} check failed ({type(exc).__name__})"
    return True, f"{provider} reachable"


class DirectGateway(Gateway):
    """What the three direct gateways share: host from settings, key, SDK client, delete, health.

    Subclasses name their `base_url_setting` and implement make_client(api_key), delete_file(id)
    and list_models() (the cheap call health() makes); each provider's Files API lists files.
    """

    route = "direct"
    lists_files = True
    base_url_setting: str

    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, timeout: float | None = None
    ):
        self.base_url = base_url or getattr(conf, self.base_url_setting, "") or None
        self.timeout = timeout
        self.client = self.make_client(require_key(self.name, api_key))

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def seconds(self, request_timeout: float | None = None) -> float:
        return timeout_seconds(request_timeout, self.timeout)

    def make_client(self, api_key: str):
        raise NotImplementedError

    def delete_file(self, remote_id: str) -> None:
        raise NotImplementedError

    def list_models(self) -> None:
        raise NotImplementedError

    def delete(self, remote_id: str, *, model: str = "") -> None:
        try:
            with mapped_errors(self.name, file_id=remote_id):
                self.delete_file(remote_id)
        except FileGone:
            return  # already deleted, or expired

    def health(self) -> tuple[bool, str]:
        return health_from(self.list_models, provider=self.name)
