"""Gemini's Files API: resumable uploads at /upload/{v1beta,v1}/files, files at
/{v1beta,v1}/files/{id}; file URIs use the real host so LiteLLM passes them by reference."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

from ..calls import Call, live_file, route
from ..store import GEMINI_TTL_SECONDS, new_id
from ..wire import Response, page
from .common import VERSION, error

FILE_URI_PREFIX = "https://generativelanguage.googleapis.com/v1beta/files/"
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def file_json(stored, *, poll: bool = False) -> dict:
    state = "ACTIVE"
    if stored.processing_polls > 0:
        state = "PROCESSING"
        if poll:
            stored.processing_polls -= 1
    sha = base64.b64encode(stored.sha256.encode()).decode()
    return {
        "name": f"files/{stored.id}",
        "displayName": stored.filename,
        "mimeType": stored.mime_type,
        "sizeBytes": str(stored.size),
        "createTime": _time(stored.created_at),
        "updateTime": _time(stored.created_at),
        "expirationTime": _time(stored.expires_at or stored.created_at + GEMINI_TTL_SECONDS),
        "sha256Hash": sha,
        "uri": FILE_URI_PREFIX + stored.id,
        "state": state,
        "source": "UPLOADED",
    }


def gone(call: Call, file_id: str) -> Response:
    return error(
        call, 403, f"You do not have permission to access the File {file_id} or it may not exist."
    )


def lookup(call: Call, file_id: str):
    stored = live_file(call, "gemini", file_id)
    return stored if stored is not None and stored.complete else None


@route("POST", r"/upload" + VERSION + r"/files", "upload")
def upload(call: Call) -> Response:
    command = call.header("X-Goog-Upload-Command").lower()
    upload_id = call.query.get("upload_id")
    if upload_id is None:
        return _start(call, command)
    with call.sim.lock:
        session = call.sim.upload_sessions.get(upload_id)
    if session is None:
        return error(call, 404, "Upload session not found or expired.")
    stored = session["file"]
    commands = {c.strip() for c in command.split(",")}
    if "query" in commands:
        return Response(200, b"", headers=_status_headers("active", session["received"]))
    if "upload" in commands:
        offset = int(call.header("X-Goog-Upload-Offset", "0") or 0)
        if offset != session["received"]:
            return error(call, 400, f"Invalid offset {offset}; expected {session['received']}.")
        with call.sim.store.sink(stored, append=True) as sink:
            session["received"] += call.body.copy_to(sink)
    if "finalize" not in commands:
        return Response(200, b"", headers=_status_headers("active", session["received"]))
    with call.sim.lock:
        call.sim.upload_sessions.pop(upload_id, None)
    call.sim.store.finish(stored)
    stored.processing_polls = call.sim.settings.gemini_processing_polls
    return Response(200, {"file": file_json(stored)}, headers=_status_headers("final", stored.size))


def _status_headers(status: str, received: int) -> dict:
    return {"x-goog-upload-status": status, "x-goog-upload-size-received": str(received)}


def _start(call: Call, command: str) -> Response:
    if "start" not in command:
        return error(call, 400, "Uploads need X-Goog-Upload-Command: start first.")
    protocol = call.header("X-Goog-Upload-Protocol").lower()
    if protocol and protocol != "resumable":
        return error(call, 400, f"Unsupported upload protocol {protocol!r}.")
    body = call.json() if not call.body.done else {}
    meta = (body or {}).get("file") or {}
    display = meta.get("displayName") or meta.get("display_name") or ""
    mime = (
        call.header("X-Goog-Upload-Header-Content-Type")
        or meta.get("mimeType")
        or meta.get("mime_type")
        or "application/octet-stream"
    )
    file_id = new_id("sim", 9, ID_ALPHABET)
    stored = call.sim.store.create(
        provider="gemini",
        id=file_id,
        filename=display or file_id,
        mime_type=mime,
        complete=False,
        expires_at=time.time() + GEMINI_TTL_SECONDS,
    )
    stored.path.write_bytes(b"")
    upload_id = new_id("sim-upload-", 24)
    with call.sim.lock:
        call.sim.upload_sessions[upload_id] = {"file": stored, "received": 0}
    version = call.params.get("version") or "v1beta"
    url = f"{call.base_url}/gemini/upload/{version}/files?upload_id={upload_id}"
    return Response(
        200,
        b"",
        headers={
            "x-goog-upload-url": url + "&upload_protocol=resumable",
            "x-goog-upload-status": "active",
            "x-goog-upload-chunk-granularity": "8388608",
            "x-goog-upload-control-url": url,
            "x-guploader-uploadid": upload_id,
        },
    )


@route("GET", VERSION + r"/files", "list")
def list_files(call: Call) -> Response:
    files = [file_json(f) for f in call.sim.store.list("gemini") if not f.gone]
    files, has_more = page(
        files,
        limit=call.query.get("pageSize") or call.query.get("page_size"),
        after=call.query.get("pageToken") or call.query.get("page_token"),
        key=lambda item: item["name"],
    )
    body = {"files": files} if files else {}
    if has_more:
        body["nextPageToken"] = files[-1]["name"]
    return Response(200, body)


@route("GET", VERSION + r"/files/(?P<id>[a-z0-9-]+)", "get")
def get_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return gone(call, call.params["id"])
    return Response(200, file_json(stored, poll=True))


@route("DELETE", VERSION + r"/files/(?P<id>[a-z0-9-]+)", "delete")
def delete_file(call: Call) -> Response:
    stored = lookup(call, call.params["id"])
    if stored is None:
        return gone(call, call.params["id"])
    call.sim.store.delete("gemini", stored.id)
    return Response(200, {})


ROUTES = [upload, list_files, get_file, delete_file]
