"""What every provider module reads from a call the same way: the model named in a JSON body, and
a stored file that still answers (not deleted, not expired, no file_gone fault on this call)."""

from __future__ import annotations

from .server import Call
from .store import StoredFile


def model_in_body(call: Call) -> str | None:
    body = call.json()
    return body.get("model") if isinstance(body, dict) else None


def live_file(call: Call, provider: str, file_id: str) -> StoredFile | None:
    stored = call.sim.store.get(provider, file_id)
    faulted = call.fault is not None and call.fault.kind == "file_gone"
    if stored is None or stored.gone or faulted:
        return None
    return stored
