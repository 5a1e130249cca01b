"""Gemini under /gemini (the API host root): resumable uploads at /upload/{v1beta,v1}/files,
files at /{v1beta,v1}/files/{id}, generation at /models/{m}:generateContent with or without a
version prefix; errors {"error":{code,message,status,details}} (429: details[].retryDelay, no
Retry-After header). File URIs use the real host so LiteLLM passes them by reference."""

from __future__ import annotations

from . import common, files, generate
from .common import VERSION, authenticate, error, fault_error, model_not_found, model_of
from .files import ID_ALPHABET, gone, lookup

__all__ = [
    "VERSION",
    "authenticate",
    "error",
    "fault_error",
    "model_not_found",
    "model_of",
    "ID_ALPHABET",
    "gone",
    "lookup",
    "ROUTES",
]

# Tried in this order: the first route that matches answers.
ROUTES = [*common.ROUTES, *files.ROUTES, *generate.ROUTES]
