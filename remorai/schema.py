"""OpenAPI helpers shared by the API modules: the error bodies, and the error answers every
operation can give."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error of the API. Some codes add fields of their own (documented with them)."""

    code = serializers.CharField(help_text="Stable machine code, e.g. `pdf_encrypted`.")
    detail = serializers.CharField(help_text="Message for humans.")
    errors = serializers.DictField(
        required=False,
        help_text="With code `invalid` (400): what is wrong, by field or query parameter "
        "(`non_field_errors` for the request as a whole), each a list of messages.",
    )


def error_response(description: str, serializer=ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


# Error answers every operation can give, added where a view's own @extend_schema does not list
# them (found by schemathesis: tests/reliability/test_api_fuzz.py).
_COMMON_ERRORS = {
    "400": "Invalid input (a query parameter or the body): `invalid` with `errors`.",
    "401": "Not authenticated.",
    "404": "Not found (or not yours), or no such page.",
    "413": "`too_large`: the request body is over the limit (`max_bytes`).",
    "429": "Too many requests (throttled).",
    "500": "`internal_error`: an unexpected error (logged).",
    "503": "`database_unavailable` or `storage_unavailable`: try again (see Retry-After).",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document 400/401/404/413/429/500/503 where they can
    occur."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            wanted = {"429", "500", "503"}
            if operation.get("security") and {} not in operation["security"]:
                wanted.add("401")
            if "{" in path or any(p.get("name") == "page" for p in parameters):
                wanted.add("404")
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                wanted.add("400")
            if "requestBody" in operation:
                wanted.add("413")
            for status in sorted(wanted):
                operation["responses"].setdefault(
                    status, {"description": _COMMON_ERRORS[status], "content": error}
                )
    return result
