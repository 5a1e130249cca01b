"""Anthropic under /anthropic: /v1/files (GA; the beta header files-api-2025-04-14 and `?beta=true`
accepted), /v1/messages with document blocks (file_id or base64), forced tools answered with
tool_use, `output_format` / `output_config.format` json_schema answered as JSON text; errors
{"type":"error","error":{type,message},"request_id"}; overload is 529."""

from __future__ import annotations

from . import common, files, messages
from .common import authenticate, error, fault_error, model_not_found, model_of

__all__ = ["authenticate", "error", "fault_error", "model_not_found", "model_of", "ROUTES"]

# Tried in this order: the first route that matches answers.
ROUTES = [*common.ROUTES, *files.ROUTES, *messages.ROUTES]
