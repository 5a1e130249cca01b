"""OpenAI's /v1/files: multipart upload, list, get, delete, content."""

from __future__ import annotations

from ..calls import Call, live_file, receive_file, route
from ..store import new_id
from ..wire import Response, listing
from .common import error

PURPOSES = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}


def file_json(stored) -> dict:
    return {
        "id": stored.id,
        "object": "file",
        "bytes": stored.size,
        "created_at": int(stored.created_at),
        "expires_at": None,
        "filename": stored.filename,
        "purpose": stored.purpose,
        "status": "processed",
        "status_details": None,
    }


def missing_file(call: Call, file_id: str, param="id") -> Response:
    return error(call, 404, f"No such File object: {file_id}", param=param)


def lookup(call: Call, file_id: str):
    return live_file(call, "openai", file_id)


@route("POST", r"/v1/files", "upload")
def upload(call: Call) -> Response:
    store = call.sim.store
    file_id = new_id("file-sim", 22)
    if "multipart/form-data" not in call.header("Content-Type"):
        return error(call, 400, "Invalid Content-Type header; expected multipart/form-data.")
    fields, stored = receive_file(call, "openai", file_id)
    purpose = fields.get("purpose").value.decode() if "purpose" in fields else ""
    if stored is None:
        return error(call, 400, "Missing required parameter: 'file'.", param="file")
    if not purpose or purpose not in PURPOSES:
        store.delete("openai", file_id)
        if not purpose:
            return error(call, 400, "Missing required parameter: 'purpose'.", param="purpose")
        return error(
            call, 400, f"'{purpose}' is not one of {sorted(PURPOSES)} - 'purpose'", param="purpose"
        )
    stored.purpose = purpose
    store.finish(stored)
    return Response(200, file_json(stored))


@route("GET", r"/v1/files", "list")
def list_files(call: Call) -> Response:
    files = [file_json(f) for f in call.sim.store.list("openai") if not f.gone]
    if call.query.get("purpose"):
        files = [f for f in files if f["purpose"] == call.query["purpose"]]
    if call.query.get("order") == "asc":
        files.reverse()
    listed = listing(files, limit=call.query.get("limit"), after=call.query.get("after"))
    return Response(200, {"object": "list", **listed})


@route("GET", r"/v1/files/(?P<id>[^/]+)", "get")
def get_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    return Response(200, file_json(stored))


@route("DELETE", r"/v1/files/(?P<id>[^/]+)", "delete")
def delete_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    call.sim.store.delete("openai", stored.id)
    return Response(200, {"id": stored.id, "object": "file", "deleted": True})


@route("GET", r"/v1/files/(?P<id>[^/]+)/content", "content")
def file_content(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return missing_file(call, call.params["id"])
    return Response(200, file=stored.path, content_type="application/octet-stream")


ROUTES = [upload, list_files, get_file, delete_file, file_content]
