"""The one small interface every way of reaching a model implements."""

from __future__ import annotations

import abc
from pathlib import Path

from llm.types import Generation, GenerationRequest, RemoteFile, RouteName


class Gateway(abc.ABC):
    """A route to models: the LiteLLM proxy, or one provider directly.

    Gateways make exactly one HTTP call per method (no retries of their own: the policy is the
    only retry loop) and raise llm.errors classes, carrying the HTTP status and any wait the
    provider asked for (Retry-After, retry-after-ms, llm_provider-retry-after, retryDelay).
    """

    route: RouteName
    #: the provider this gateway talks to ("openai", "gemini", "anthropic"), or "litellm"
    name: str
    #: whether list_files() can enumerate the files held remotely (the proxy's API cannot)
    lists_files: bool = False

    @abc.abstractmethod
    def upload(self, path: Path, filename: str, mime: str, *, model: str) -> RemoteFile:
        """Stream the file at `path` to the remote Files API (never held whole in memory)."""

    @abc.abstractmethod
    def delete(self, remote_id: str, *, model: str) -> None:
        """Delete a remote file. A file already gone is not an error."""

    @abc.abstractmethod
    def generate(self, request: GenerationRequest) -> Generation:
        """One generation call with the document (by file id or inline) and a JSON schema."""

    def list_files(self) -> list[RemoteFile]:
        """Every file the account holds remotely; only where `lists_files` is true."""
        raise NotImplementedError(f"{type(self).__name__} cannot list remote files")

    @abc.abstractmethod
    def health(self) -> tuple[bool, str]:
        """Whether the route answers (no model call): (ok, human-readable detail)."""
