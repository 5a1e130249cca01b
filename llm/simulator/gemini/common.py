"""What every Gemini route shares: the error body {"error":{code,message,status,details}}
(429: details[].retryDelay), the key (header or ?key=), the model in the path, and the
models listing."""

from __future__ import annotations

from ..calls import Call, route
from ..models import listed_models
from ..wire import Response

VERSION = r"(?:/(?P<version>v1beta|v1|v1alpha))"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error(call: Call, status: int, message: str, *, details=None, headers=None, status_name=None):
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": status_name or STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }
    if details:
        body["error"]["details"] = details
    headers = dict(headers or {})
    if call.path.startswith("/upload/"):
        # google-genai retries an upload chunk whose answer lacks this header.
        headers.setdefault("x-goog-upload-status", "final")
    return Response(status, body, headers=headers)


def fault_error(call: Call, fault) -> Response:
    status = fault.status
    details = None
    message = fault.message
    if status == 429:
        per = "PerDay" if fault.quota else "PerMinute"
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_free_tier_requests",
                        "quotaId": f"GenerateRequests{per}PerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": call.model or ""},
                        "quotaValue": "10",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
        ]
        delay = fault.retry_delay
        if delay is None and fault.retry_after is not None:
            delay = f"{fault.retry_after}s"
        if delay is not None:
            delay = delay if str(delay).endswith("s") else f"{delay}s"
            details.append(
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
            )
        message = message or (
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, head to: "
            "https://ai.google.dev/gemini-api/docs/rate-limits."
        )
    defaults = {
        400: "Request contains an invalid argument.",
        403: "The caller does not have permission",
        404: "Requested entity was not found.",
        500: "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        503: "The model is overloaded. Please try again later.",
        504: "Deadline expired before operation could complete.",
    }
    headers = {}
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = str(fault.retry_after_ms)
    return error(
        call,
        status,
        message or defaults.get(status, f"Simulated error {status}."),
        details=details,
        headers=headers,
        status_name=fault.code,
    )


def authenticate(call: Call) -> Response | None:
    key = call.header("x-goog-api-key") or call.query.get("key", "")
    if not key and call.operation == "upload" and call.query.get("upload_id"):
        # The resumable session URL itself is the credential (google-genai sends no key there).
        with call.sim.lock:
            if call.query["upload_id"] in call.sim.upload_sessions:
                return None
    if not key:
        return error(
            call,
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    wanted = call.sim.settings.keys.get("gemini")
    if wanted and key != wanted:
        return error(
            call,
            400,
            "API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )
    return None


def model_of(call: Call) -> str | None:
    return call.params.get("model")


@route("GET", VERSION + r"?/models", "models")
def list_models(call: Call) -> Response:
    names = listed_models(call.sim, "gemini")
    return Response(
        200,
        {
            "models": [
                {
                    "name": f"models/{n}",
                    "displayName": n,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for n in names
            ]
        },
    )


def model_not_found(call: Call) -> Response:
    version = call.params.get("version") or "v1beta"
    return error(
        call,
        404,
        f"models/{call.model} is not found for API version {version}, or is not supported "
        "for generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


ROUTES = [list_models]
