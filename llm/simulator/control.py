"""The control endpoint under /_control/ (used by tests and benchmarks, never by providers).

GET  /_control/health                 {"simulator": "remorai", "ok": true}
POST /_control/reset                  faults, latency, chaos, log, settings and files cleared
                                      ({"files": false} keeps the files)
GET  /_control/faults                 current faults, latency and chaos
POST /_control/faults                 add a fault (see faults.py) or {"faults": [...]}
DELETE /_control/faults               remove every fault
POST /_control/latency                {"seconds": 2, "provider": "*", "operation": "generate"}
POST /_control/chaos                  {"seed": 1, "rate": 0.2, "kinds": ["error:503", "drop",
                                      {"kind": "error", "status": 429, "retry_after": 2},
                                      "delay", "malformed_json"], "delay": 30,
                                      "operations": ["generate"], "providers": ["*"]}
POST /_control/expire                 {"provider": "gemini", "id": "..."} (omit id: all files)
POST /_control/settings               {"gemini_processing_polls": 1, "keys": {"openai": "sk-…"},
                                      "models": {"openai": ["gpt-4o"]}} (unknown model: 404)
GET  /_control/requests               the request log (?provider=&operation=&since=<seq>)
GET  /_control/files                  every stored file's metadata
POST /_control/next_answer            {"sha256": "<PDF sha256>", "answer": {...}, "times": 1}:
                                      the next call about that document answers this (scripts.py)
GET|DELETE /_control/next_answer      the queued answers per document / remove them all
GET|POST /_control/batches            batch jobs and their settings: {"delay": 5, "expire": true,
                                      "fail_ids": ["doc-1"], "fail_status": 500} (batches.py)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from .wire import BadRequest, BodyReader, Response, parse_json

if TYPE_CHECKING:
    from .server import Simulator


def handle(sim: Simulator, method: str, path: str, query: dict, body: BodyReader) -> Response:
    action = path.removeprefix("/_control").strip("/")
    try:
        data = parse_json(body.read_all()) if method in ("POST", "PUT") else {}
        return _dispatch(sim, method, action, query, data or {})
    except (BadRequest, ValueError, TypeError) as exc:
        return Response(400, {"error": str(exc)})


def _dispatch(sim: Simulator, method: str, action: str, query: dict, data: dict) -> Response:
    if action in ("", "health"):
        return Response(200, {"simulator": "remorai", "ok": True, "url": sim.url})
    if action == "reset" and method == "POST":
        sim.reset(files=bool(data.get("files", True)))
        return Response(200, {"reset": True})
    if action == "faults":
        if method == "GET":
            return Response(200, sim.faults.state())
        if method == "DELETE":
            with sim.faults._lock:
                sim.faults.faults.clear()
            return Response(200, {"faults": []})
        if method == "POST":
            specs = data.get("faults") if "faults" in data else [data]
            added = [asdict(sim.faults.add(spec)) for spec in specs]
            return Response(200, {"faults": added})
    if action == "latency" and method == "POST":
        sim.faults.set_latency(
            seconds=float(data.get("seconds", 0)),
            provider=data.get("provider", "*"),
            operation=data.get("operation", "*"),
        )
        return Response(200, sim.faults.state())
    if action == "chaos" and method == "POST":
        sim.faults.set_chaos(data)
        return Response(200, sim.faults.state())
    if action == "expire" and method == "POST":
        count = sim.store.expire(data.get("provider"), data.get("id"))
        return Response(200, {"expired": count})
    if action == "settings" and method == "POST":
        for key, value in data.items():
            if not hasattr(sim.settings, key):
                raise ValueError(f"unknown setting {key!r}")
            setattr(sim.settings, key, value)
        return Response(200, asdict(sim.settings))
    if action == "requests" and method == "GET":
        entries = sim.faults.entries()
        for key in ("provider", "operation", "method"):
            if query.get(key):
                entries = [e for e in entries if e[key] == query[key]]
        if query.get("since"):
            entries = [e for e in entries if e["seq"] > int(query["since"])]
        return Response(200, {"requests": entries})
    if action == "next_answer":
        if method == "POST":
            if "answer" not in data:
                raise ValueError("answer is required")
            queued = sim.scripts.add(
                sha256=data.get("sha256"), answer=data["answer"], times=int(data.get("times", 1))
            )
            return Response(200, {"next_answers": queued})
        if method == "DELETE":
            sim.scripts.clear()
        return Response(200, {"next_answers": sim.scripts.state()})
    if action == "batches":
        from . import batches

        return batches.control(sim, method, data)
    if action == "files" and method == "GET":
        files = []
        for provider in sim.providers:
            for stored in sim.store.list(provider):
                files.append(
                    {
                        "provider": provider,
                        "id": stored.id,
                        "filename": stored.filename,
                        "bytes": stored.size,
                        "gone": stored.gone,
                    }
                )
        return Response(200, {"files": files})
    return Response(404, {"error": f"unknown control action {method} /_control/{action}"})
