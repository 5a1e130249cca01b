"""OpenAI's Batch API through the LiteLLM proxy's /v1/files (purpose=batch) and /v1/batches,
with the openai SDK pointed at the proxy. The proxy routes by the model named at upload and
encodes it in every id it returns (base64 of "litellm:<provider id>;model,<model name>"); it does
not translate ids inside a batch's input file, so each line names the provider's own file id.
Measured against litellm 1.108 (tests/llm/test_batches_proxy_real.py)."""

from __future__ import annotations

import base64
import binascii
import functools

import openai

from llm.conf import conf
from llm.gateways.openai import OpenAIDirect
from llm.gateways.sdk import require_key

#: providers whose batch API the proxy speaks (LiteLLM: OpenAI, Azure, Vertex, Bedrock, …)
PROVIDERS = ("openai",)


class ProxyBatches:
    """What llm.batches' OpenAI backend needs of a gateway, for the proxy route."""

    route = "proxy"
    name = "litellm"
    chat_params = staticmethod(OpenAIDirect.chat_params)
    generation_from = staticmethod(OpenAIDirect.generation_from)

    def __init__(self, base_url: str, api_key: str):
        self.client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url.rstrip("/") + "/v1",
            max_retries=0,
            timeout=openai.Timeout(
                conf.LLM_TIMEOUT_SECONDS, connect=conf.LLM_CONNECT_TIMEOUT_SECONDS
            ),
        )

    def __repr__(self) -> str:  # never the key
        return f"ProxyBatches(base_url={str(self.client.base_url)!r})"


def proxy_batches() -> ProxyBatches:
    return _cached(conf.LITELLM_BASE_URL, require_key("litellm", None))


@functools.lru_cache(maxsize=4)
def _cached(base_url: str, api_key: str) -> ProxyBatches:
    return ProxyBatches(base_url, api_key)


def provider_file_id(remote_id: str) -> str:
    """The provider's own id inside a proxy file id ("file-" + base64 of "litellm:<id>;…");
    an id that is not one of those is returned as it is."""
    encoded = remote_id.removeprefix("file-")
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return remote_id
    if not decoded.startswith("litellm:"):
        return remote_id
    return decoded.removeprefix("litellm:").split(";", 1)[0] or remote_id
