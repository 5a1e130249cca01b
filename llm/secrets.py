"""API keys: from the environment (settings), or AWS Secrets Manager when LLM_SECRETS_ID is set.

The secret is one JSON object holding OPENAI_API_KEY, GEMINI_API_KEY, ANTHROPIC_API_KEY (and
optionally LITELLM_API_KEY); it is read once and cached for LLM_SECRETS_CACHE_SECONDS. Every
value read is registered with remorai.logging so it is masked wherever it would be logged.
Errors name the secret id and the AWS error code, never a value.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from llm.conf import conf
from llm.errors import ConfigurationError
from remorai.logging import register_secret

logger = logging.getLogger(__name__)

KEY_NAMES = {
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "litellm": "LITELLM_API_KEY",
}
_PROVIDER_KEYS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY")

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, str]]] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def get_api_key(provider: str) -> str:
    """The key for `provider` ("openai", "gemini", "anthropic", "litellm"); "" when none is set.

    Raises ConfigurationError when LLM_SECRETS_ID is set but the secret cannot be read.
    """
    try:
        name = KEY_NAMES[provider]
    except KeyError:
        raise ConfigurationError(f"Unknown provider {provider!r}.") from None
    value = ""
    if conf.LLM_SECRETS_ID:
        value = _secret_values(conf.LLM_SECRETS_ID).get(name, "")
    if not value:
        value = getattr(conf, name, "") or ""
    register_secret(value)
    return value


def has_api_key(provider: str) -> bool:
    """Whether a key is configured; an unreadable secret counts as "no key" (and is logged)."""
    try:
        return bool(get_api_key(provider))
    except ConfigurationError as exc:
        logger.error("LLM keys unavailable: %s", exc.detail)
        return False


def check_secrets() -> None:
    """Fail loudly (ConfigurationError) when the configured secret cannot serve any provider."""
    if not conf.LLM_SECRETS_ID:
        return
    values = _secret_values(conf.LLM_SECRETS_ID)
    if not any(values.get(name) for name in _PROVIDER_KEYS):
        raise ConfigurationError(
            f"Secret {conf.LLM_SECRETS_ID!r} holds none of {', '.join(_PROVIDER_KEYS)}."
        )


def _secret_values(secret_id: str) -> dict[str, str]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached and now - cached[0] < conf.LLM_SECRETS_CACHE_SECONDS:
            return cached[1]
    values = _fetch(secret_id)
    for value in values.values():
        register_secret(value)
    with _lock:
        _cache[secret_id] = (now, values)
    return values


def _fetch(secret_id: str) -> dict[str, str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("secretsmanager", region_name=conf.AWS_SECRETS_REGION)
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise ConfigurationError(
            f"Cannot read the LLM keys from AWS secret {secret_id!r}: {code}."
        ) from None
    except BotoCoreError as exc:
        raise ConfigurationError(
            f"Cannot reach AWS Secrets Manager for secret {secret_id!r}: {type(exc).__name__}."
        ) from None
    try:
        payload = json.loads(response.get("SecretString") or "")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ConfigurationError(
            f"AWS secret {secret_id!r} is not a JSON object with {', '.join(_PROVIDER_KEYS)}."
        )
    return {
        str(k): str(v) for k, v in payload.items() if k in KEY_NAMES.values() and isinstance(v, str)
    }
