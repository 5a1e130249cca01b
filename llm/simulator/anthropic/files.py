"""Anthropic's /v1/files (GA; the beta header files-api-2025-04-14 and `?beta=true` accepted)."""

from __future__ import annotations

from datetime import UTC, datetime

from ..calls import Call, live_file, receive_file, route
from ..store import new_id
from ..wire import Response, listing
from .common import error


def file_json(stored) -> dict:
    return {
        "id": stored.id,
        "type": "file",
        "filename": stored.filename,
        "mime_type": stored.mime_type,
        "size_bytes": stored.size,
        "created_at": datetime.fromtimestamp(stored.created_at, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        ),
        "downloadable": False,
    }


def lookup(call: Call, file_id: str):
    return live_file(call, "anthropic", file_id)


def missing(call: Call, file_id: str) -> Response:
    return error(call, 404, f"File not found: {file_id}")


@route("POST", r"/v1/files", "upload")
def upload(call: Call) -> Response:
    store = call.sim.store
    file_id = new_id("file_011sim", 17)
    if "multipart/form-data" not in call.header("Content-Type"):
        return error(call, 400, "Expected a multipart/form-data body with a 'file' part.")
    _fields, stored = receive_file(
        call, "anthropic", file_id, mime_type=lambda part: part.content_type.split(";")[0].strip()
    )
    if stored is None:
        return error(call, 400, "file: Field required")
    return Response(200, file_json(store.finish(stored)))


@route("GET", r"/v1/files", "list")
def list_files(call: Call) -> Response:
    files = [file_json(f) for f in call.sim.store.list("anthropic") if not f.gone]
    return Response(
        200, listing(files, limit=call.query.get("limit"), after=call.query.get("after_id"))
    )


@route("GET", r"/v1/files/(?P<id>[^/]+)", "get")
def get_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    return missing(call, call.params["id"]) if stored is None else Response(200, file_json(stored))


@route("DELETE", r"/v1/files/(?P<id>[^/]+)", "delete")
def delete_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing(call, call.params["id"])
    call.sim.store.delete("anthropic", stored.id)
    return Response(200, {"id": stored.id, "type": "file_deleted"})


@route("GET", r"/v1/files/(?P<id>[^/]+)/content", "content")
def file_content(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing(call, call.params["id"])
    return error(call, 400, f"File {stored.id} is not downloadable (uploaded files never are).")


ROUTES = [upload, list_files, get_file, delete_file, file_content]
