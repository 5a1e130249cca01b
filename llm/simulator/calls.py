"""What every provider module reads from a call the same way: the model named in a JSON body, a
stored file that still answers (not deleted, not expired, no file_gone fault on this call), and a
multipart upload's "file" part streamed into the store."""

from __future__ import annotations

from collections.abc import Callable

from .server import Call
from .store import StoredFile
from .wire import BadRequest, Part, parse_multipart


def model_in_body(call: Call) -> str | None:
    body = call.json()
    return body.get("model") if isinstance(body, dict) else None


def live_file(call: Call, provider: str, file_id: str) -> StoredFile | None:
    stored = call.sim.store.get(provider, file_id)
    faulted = call.fault is not None and call.fault.kind == "file_gone"
    if stored is None or stored.gone or faulted:
        return None
    return stored


def receive_file(
    call: Call,
    provider: str,
    file_id: str,
    *,
    mime_type: Callable[[Part], str] = lambda part: part.content_type,
) -> tuple[dict[str, Part], StoredFile | None]:
    """The multipart body's fields, and its "file" part streamed into the store as `file_id`
    (None when there is no such part; other file parts are read and dropped). A malformed body
    leaves nothing stored: BadRequest propagates after the partial file is deleted."""
    store = call.sim.store
    created = {}

    def open_file(part):
        if part.name != "file":
            return open("/dev/null", "wb")  # noqa: SIM115 - closed by the multipart parser
        created["file"] = store.create(
            provider=provider,
            id=file_id,
            filename=part.filename or "file",
            mime_type=mime_type(part),
            complete=False,
        )
        return store.sink(created["file"])

    try:
        fields = parse_multipart(call.body, call.header("Content-Type"), open_file)
    except BadRequest:
        if "file" in created:
            store.delete(provider, file_id)
        raise
    return fields, created.get("file")
