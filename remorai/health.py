"""Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies answer)."""

from collections.abc import Callable

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Later layers register checks here: name -> callable returning (ok: bool, details: dict).
READINESS_CHECKS: dict[str, Callable[[], tuple[bool, dict]]] = {}


def database_check() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return False, {"error": type(exc).__name__}
    return True, {"vendor": connection.vendor}


READINESS_CHECKS["database"] = database_check


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = {}
    ready = True
    for name, check in READINESS_CHECKS.items():
        ok, details = check()
        checks[name] = {"ok": ok, **details}
        ready = ready and ok
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
