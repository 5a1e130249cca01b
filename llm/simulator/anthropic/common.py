"""What every Anthropic route shares: the error body {"type":"error","error":{type,message},
"request_id"} (overload is 529), the x-api-key, the model a call names, and GET /v1/models."""

from __future__ import annotations

from ..answer import retry_headers
from ..calls import Call, model_in_body, route
from ..models import listed_models
from ..store import new_id
from ..wire import Response

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error(call: Call, status: int, message: str, *, type_=None, headers=None) -> Response:
    request_id = new_id("req_sim", 24)
    type_ = type_ or ERROR_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    body = {"type": "error", "error": {"type": type_, "message": message}, "request_id": request_id}
    return Response(status, body, headers={"request-id": request_id} | (headers or {}))


def fault_error(call: Call, fault) -> Response:
    status = fault.status
    defaults = {
        400: "Invalid request (simulated fault).",
        401: "invalid x-api-key",
        403: "Your API key does not have permission to use the specified resource.",
        404: "The requested resource could not be found.",
        413: "Request exceeds the maximum allowed number of bytes.",
        429: "This request would exceed the rate limit for your organization (simulated). "
        "Please reduce the prompt length or try again later.",
        500: "Internal server error",
        529: "Overloaded",
    }
    message = fault.message or defaults.get(status, f"Simulated error {status}.")
    if fault.quota:
        message = fault.message or (
            "Your credit balance is too low to access the Anthropic API. "
            "Please go to Plans & Billing to upgrade or purchase credits."
        )
    return error(call, status, message, type_=fault.error_type, headers=retry_headers(fault))


def authenticate(call: Call) -> Response | None:
    key = call.header("x-api-key")
    auth = call.header("Authorization")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    if not key:
        return error(call, 401, "x-api-key header is required")
    wanted = call.sim.settings.keys.get("anthropic")
    if wanted and key != wanted:
        return error(call, 401, "invalid x-api-key")
    if not call.header("anthropic-version"):
        return error(call, 400, "anthropic-version: header is required")
    # The Files API needs no beta header any more: anthropic 2.x has GA `client.files` and file
    # document sources in `client.messages` (no header); LiteLLM and `client.beta.files` still
    # send `anthropic-beta: files-api-2025-04-14`, which is accepted too.
    return None


def model_of(call: Call) -> str | None:
    return model_in_body(call)


def model_not_found(call: Call) -> Response:
    return error(call, 404, f"model: {call.model}")


@route("GET", r"/v1/models", "models")
def list_models(call: Call) -> Response:
    names = listed_models(call.sim, "anthropic")
    data = [
        {"type": "model", "id": n, "display_name": n, "created_at": "2025-09-29T00:00:00Z"}
        for n in names
    ]
    return Response(
        200, {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}
    )


ROUTES = [list_models]
