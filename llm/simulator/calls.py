"""One call to a simulated provider, the routes that answer it, and what every provider module
reads from a call the same way: the model named in a JSON body, a stored file that still answers
(not deleted, not expired, no file_gone fault on this call), and a multipart upload's "file" part
streamed into the store. Provider modules import from here, never from the server (which imports
them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .faults import Fault
from .store import StoredFile
from .wire import BadRequest, BodyReader, Part, Response, parse_json, parse_multipart

if TYPE_CHECKING:
    from .server import Simulator


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    operation: str
    handler: Callable[[Call], Response]


def route(method: str, pattern: str, operation: str):
    def register(fn):
        return Route(method, re.compile(pattern + r"$"), operation, fn)

    return register


@dataclass
class Call:
    sim: Simulator
    method: str
    path: str  # path below the provider prefix, e.g. "/v1/files/abc"
    query: dict[str, str]
    headers: Any
    body: BodyReader
    provider: str
    host: str
    operation: str = ""
    params: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None
    model: str | None = None
    _json: Any = None

    def json(self) -> Any:
        if self._json is None:
            self._json = parse_json(self.body.read_all())
        return self._json

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name) or default


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
