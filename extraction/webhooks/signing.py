"""Secrets and Standard Webhooks signatures (the `standardwebhooks` package does the HMAC)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def new_secret() -> str:
    """`whsec_` + 32 random bytes in base64, the format Standard Webhooks libraries accept."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature_headers(
    *, msg_id: str, timestamp: datetime, body: str, secrets_: list[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers; one `v1,` signature per secret (two while a
    rotation overlaps), space-separated, so a receiver holding either secret verifies."""
    signatures = [Webhook(s).sign(msg_id=msg_id, timestamp=timestamp, data=body) for s in secrets_]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
