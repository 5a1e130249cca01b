"""What every OpenAI route shares: the error body {"error":{message,type,param,code}}, the
Bearer key, the model a call names, and GET /v1/models."""

from __future__ import annotations

from ..answer import (
    retry_headers,
)
from ..calls import Call, model_in_body, route
from ..models import listed_models
from ..store import new_id
from ..wire import Response


def error(
    call: Call, status: int, message: str, *, type_=None, param=None, code=None, headers=None
):
    if type_ is None:
        type_ = {401: "invalid_request_error", 429: "requests", 500: "server_error"}.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return Response(status, body, headers={"x-request-id": new_id("req_sim")} | (headers or {}))


def fault_error(call: Call, fault) -> Response:
    status = fault.status
    headers = retry_headers(fault)
    if fault.quota:
        return error(
            call,
            status if status != 500 else 429,
            fault.message
            or "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type_="insufficient_quota",
            code=fault.code or "insufficient_quota",
            headers=headers,
        )
    messages = {
        400: "Invalid request (simulated fault).",
        401: "Incorrect API key provided.",
        403: "You are not allowed to sample from this model",
        404: "The model does not exist or you do not have access to it.",
        408: "Request timed out.",
        409: "Conflict (simulated fault).",
        429: f"Rate limit reached for {call.model or 'requests'} (simulated). "
        "Please try again in 2s.",
        500: "The server had an error while processing your request. Sorry about that!",
        502: "Bad gateway.",
        503: "The server is overloaded or not ready yet.",
    }
    code = fault.code or {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status)
    return error(
        call,
        status,
        fault.message or messages.get(status, f"Simulated error {status}."),
        type_=fault.error_type or ("tokens" if status == 429 else None),
        code=code,
        headers=headers,
    )


def authenticate(call: Call) -> Response | None:
    auth = call.header("Authorization")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        return error(
            call,
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    wanted = call.sim.settings.keys.get("openai")
    if wanted and token != wanted:
        return error(
            call,
            401,
            "Incorrect API key provided: sk-***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return None


def model_of(call: Call) -> str | None:
    return model_in_body(call)


def model_not_found(call: Call) -> Response:
    return error(
        call,
        404,
        f"The model `{call.model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


@route("GET", r"/v1/models", "models")
def list_models(call: Call) -> Response:
    names = listed_models(call.sim, "openai")
    data = [
        {"id": n, "object": "model", "created": 1715367049, "owned_by": "system"} for n in names
    ]
    return Response(200, {"object": "list", "data": data})


ROUTES = [list_models]
