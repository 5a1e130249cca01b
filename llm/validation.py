"""The model's answer: parsed as JSON and validated against the request's JSON schema.

Invalid JSON, a truncated answer or a schema violation raise BadOutput (raw text and the errors
kept); repair_followups() turns them into the one repair turn sent back to the model.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from referencing.exceptions import Unresolvable

from llm.errors import BadOutput, InvalidJson, OutputTruncated, SchemaViolation
from llm.schema_safety import schema_validator
from llm.types import Generation

# finish reasons meaning "stopped at the token limit" (OpenAI/LiteLLM, Anthropic, Gemini)
TRUNCATED_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
MAX_ERRORS = 10


def validate_generation(generation: Generation, schema: dict) -> Any:
    """The parsed, schema-valid data of `generation`; BadOutput otherwise."""
    text = generation.text or ""
    if generation.finish_reason in TRUNCATED_REASONS:
        raise OutputTruncated(
            "The answer was cut off at the output token limit.",
            raw_text=text,
            errors=["output truncated: the answer stopped at the token limit"],
        )
    # The one place an answer is parsed; a gateway that received it already parsed (Anthropic's
    # tool_use input) hands it over as data.
    data = generation.data if generation.data is not None else parse_json(text)
    errors = schema_errors(data, schema)
    if errors:
        raise SchemaViolation(
            "The answer does not match the schema: " + "; ".join(errors[:3]),
            raw_text=text,
            errors=errors,
        )
    return data


def parse_json(text: str) -> Any:
    cleaned = _strip_fences(text)
    try:
        return json.loads(cleaned)
    except ValueError as exc:
        raise InvalidJson(
            f"The answer is not valid JSON: {exc}.",
            raw_text=text,
            errors=[f"invalid JSON: {exc}"],
        ) from None


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        body = stripped[3:-3]
        first_newline = body.find("\n")
        if first_newline != -1 and body[:first_newline].strip().isalpha():
            body = body[first_newline + 1 :]
        return body.strip()
    return stripped


def schema_errors(data: Any, schema: dict) -> list[str]:
    validator = schema_validator(schema, format_checker=True)
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    except (Unresolvable, RecursionError, ValueError) as exc:
        # A profile saved before the save-time checks (remote or recursive $ref, a pattern RE2
        # cannot run): the answer cannot be judged safely.
        return [f"the schema cannot be applied safely: {type(exc).__name__}"]
    return [_describe(e) for e in errors[:MAX_ERRORS]]


def _describe(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {path}: {error.message}"


def repair_followups(error: BadOutput) -> tuple[dict[str, str], ...]:
    """The turns that ask the model to correct its previous answer."""
    problems = "\n".join(f"- {e}" for e in error.errors) or f"- {error.detail}"
    return (
        {"role": "assistant", "content": error.raw_text or "(empty answer)"},
        {
            "role": "user",
            "content": (
                "Your previous answer cannot be used:\n"
                f"{problems}\n"
                "Answer again with only one JSON value that is valid against the JSON schema "
                "given, with no prose and no code fences. Keep it short enough to be complete."
            ),
        },
    )
