"""The client's address as the deployment says to read it (NUM_PROXIES, as DRF's throttles do).

With NUM_PROXIES = 0 the socket's address; with N > 0 the N-th entry from the end of
X-Forwarded-For (the one the outermost trusted proxy appended), so a client cannot choose it.
Used by the admin login lockout (django-axes) so that it and the throttles agree.
"""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    return entries[-min(proxies, len(entries))] if entries else remote
