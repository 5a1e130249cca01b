"""OpenAI under /openai: /v1/files (multipart upload, list, get, delete, content) and
/v1/chat/completions (JSON or SSE), with OpenAI's error body {"error":{message,type,param,code}}."""

from __future__ import annotations

from . import chat, common, files
from .common import authenticate, error, fault_error, model_not_found, model_of

__all__ = ["authenticate", "error", "fault_error", "model_not_found", "model_of", "ROUTES"]

# Tried in this order: the first route that matches answers.
ROUTES = [*common.ROUTES, *files.ROUTES, *chat.ROUTES]
