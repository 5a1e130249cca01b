"""One HTTP try of a webhook: to the checked address, bounded in time and in bytes read."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from extraction.webhooks import conf, ssrf
from extraction.webhooks.errors import WebhookUrlRefused

USER_AGENT = "Remorai-Webhooks/1"


@dataclass(frozen=True)
class TryResult:
    status_code: int | None
    error: str
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, url: str, body: str, headers: dict[str, str]) -> TryResult:
    """POST the body once. Never raises for the receiver's sake: refusals, timeouts and
    connection errors come back as `error` (no secret, no URL in it)."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        destination = ssrf.check_url(url)
    except WebhookUrlRefused as exc:
        return TryResult(None, f"refused: {exc.detail}"[:500], elapsed_ms())
    client = ssrf.pinned_client(destination)
    # The total budget covers connect, send, wait and read: past it the client is closed under
    # the blocked call (httpx has per-operation timeouts only).
    watchdog = threading.Timer(conf.TOTAL_TIMEOUT_SECONDS, client.close)
    watchdog.daemon = True
    watchdog.start()
    try:
        with client.stream(
            "POST",
            url,
            content=body.encode("utf-8"),
            headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
        ) as response:
            read = 0
            for chunk in response.iter_raw(8192):
                read += len(chunk)
                if read >= conf.MAX_RESPONSE_BYTES:
                    break  # the rest is not read: the status is what counts
            return TryResult(response.status_code, "", elapsed_ms())
    except httpx.TimeoutException as exc:
        return TryResult(None, f"timeout: {type(exc).__name__}", elapsed_ms())
    except (httpx.HTTPError, OSError, RuntimeError) as exc:
        if time.monotonic() - started >= conf.TOTAL_TIMEOUT_SECONDS:
            return TryResult(None, "timeout: no answer within the total budget", elapsed_ms())
        return TryResult(None, f"connection error: {type(exc).__name__}", elapsed_ms())
    finally:
        watchdog.cancel()
        client.close()
