"""The simulator's HTTP server: routing by provider prefix, auth, faults, latency, the log."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import (
    anthropic,
    batches_anthropic,
    batches_gemini,
    batches_openai,
    control,
    gemini,
    openai,
)
from .calls import Call
from .faults import Fault, FaultBook
from .scripts import ScriptBook
from .store import FileStore
from .wire import BadRequest, BodyReader, Response, redact_headers, shorten

SIMULATOR_HEADER = ("x-simulator", "remorai")
# path prefix -> the provider's module (its ROUTES, authenticate, error shapes)
PROVIDERS = {"openai": openai, "gemini": gemini, "anthropic": anthropic}
# Batch APIs live in their own modules; their routes are tried before the provider's.
BATCH_ROUTES = {
    "openai": batches_openai.ROUTES,
    "gemini": batches_gemini.ROUTES,
    "anthropic": batches_anthropic.ROUTES,
}
logger = logging.getLogger("llm.simulator")


@dataclass
class Settings:
    gemini_processing_polls: int = 0
    # provider -> the only API key accepted (unset: any non-empty key is accepted)
    keys: dict[str, str] = field(default_factory=dict)
    # provider -> the models it serves (unset: any model name is served)
    models: dict[str, list[str]] = field(default_factory=dict)


class Simulator:
    """Owns the state (files, faults, log, settings) and the HTTP server."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, data_dir: Path | None = None):
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="remorai-simulator-")
            data_dir = Path(self._tmp.name)
        self.store = FileStore(Path(data_dir))
        self.faults = FaultBook()
        self.scripts = ScriptBook()
        self.settings = Settings()
        self._baseline: dict | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.epoch = 0  # bumped by reset()
        self._wake = threading.Event()  # set (and replaced) by reset() and stop()
        self.upload_sessions: dict[str, dict] = {}  # Gemini resumable uploads in progress
        self.httpd = SimulatorHTTPServer((host, port), Handler)
        self.httpd.sim = self
        self._thread: threading.Thread | None = None
        self.providers = PROVIDERS
        self.batch_routes = BATCH_ROUTES

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self, *, files: bool = True) -> None:
        """Back to a clean state. Calls still sleeping in a delay from before are cut short and
        dropped, and calls from before are not logged after it: one test never sees another's."""
        with self.lock:
            self.epoch += 1
            woken, self._wake = self._wake, threading.Event()
        woken.set()
        self.faults.reset()
        self.scripts.clear()
        self.settings = Settings()
        self._apply_baseline()
        with self.lock:
            self.upload_sessions.clear()
        if files:
            self.store.clear()

    def set_baseline(
        self,
        *,
        latencies: list[tuple[str, str, float]] = (),
        chaos: dict | None = None,
        gemini_processing_polls: int = 0,
    ) -> None:
        """Latency, chaos and settings this server starts with and returns to on reset()."""
        self._baseline = {
            "latencies": list(latencies),
            "chaos": chaos,
            "gemini_processing_polls": gemini_processing_polls,
        }
        self._apply_baseline()

    def _apply_baseline(self) -> None:
        baseline = self._baseline
        if not baseline:
            return
        for provider, operation, seconds in baseline["latencies"]:
            self.faults.set_latency(seconds=seconds, provider=provider, operation=operation)
        self.faults.set_chaos(baseline["chaos"])
        self.settings.gemini_processing_polls = baseline["gemini_processing_polls"]

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._wake.wait(seconds)

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="simulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    sim: Simulator


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "remorai-simulator/1"
    # Headers and body are separate writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms per answer on Linux loopback).
    disable_nagle_algorithm = True
    timeout = 300
    server: SimulatorHTTPServer

    def log_message(self, format, *args):  # noqa: A002 - quiet: the request log records calls
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def dispatch(self) -> None:
        sim = self.server.sim
        started = time.monotonic()
        epoch = sim.epoch
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        body = BodyReader(self.rfile, self.headers)
        path = parsed.path
        if path.startswith("/_control/") or path == "/_control":
            response = control.handle(sim, self.command, path, query, body)
            self.send(response)
            return
        prefix, _, rest = path.lstrip("/").partition("/")
        module = sim.providers.get(prefix)
        call = Call(
            sim=sim,
            method=self.command,
            path="/" + rest,
            query=query,
            headers=self.headers,
            body=body,
            provider=prefix if module else "unknown",
            host=self.headers.get("Host") or sim.url.removeprefix("http://"),
        )
        fault_name = None
        try:
            if module is None:
                response = Response(404, {"error": f"no simulated provider at /{prefix}"})
            else:
                response, fault_name = self.run(module, call)
        except BadRequest as exc:
            response = module.error(call, 400, str(exc)) if module else Response(400, str(exc))
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            # A body of the wrong shape (a string where an object belongs, …): the real APIs
            # answer 400; the traceback is logged in case it is the simulator's own bug.
            logger.warning("simulator: malformed %s request body", call.provider, exc_info=True)
            message = f"Invalid request body: {type(exc).__name__}: {exc}"
            response = module.error(call, 400, message) if module else Response(400, message)
        except Exception as exc:  # noqa: BLE001 - a simulator bug answers 500, visibly
            logger.exception("simulator bug on %s %s", self.command, path)
            response = Response(500, {"error": {"message": f"simulator bug: {exc!r}"}})
        if not body.done and not response.drop:
            try:
                body.drain()
            except (BadRequest, OSError):
                self.close_connection = True
        if sim.epoch != epoch:  # a reset happened meanwhile: this call belongs to the past
            self.send(Response(drop=True))
            return
        # Logged before the answer goes out, so a client that has its answer sees the entry.
        logged_path = re.sub(r"([?&]key=)[^&]+", r"\1***", self.path)
        entry = sim.faults.record(
            method=self.command,
            path=logged_path,
            provider=call.provider,
            operation=call.operation,
            model=call.model,
            bytes_in=body.bytes_read,
            status=None if response.drop else response.status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            fault=fault_name,
            client_port=self.client_address[1],
            headers=redact_headers(self.headers),
            body=shorten(call._json) if call._json is not None else None,
        )
        entry.bytes_out = self.send(response)

    def run(self, module, call: Call) -> tuple[Response, str | None]:
        sim = call.sim
        for candidate in [*sim.batch_routes.get(call.provider, ()), *module.ROUTES]:
            match = candidate.pattern.match(call.path)
            if match and candidate.method == call.method:
                break
        else:
            call.operation = "unknown"
            logger.warning(
                "simulator: no %s route for %s %s", call.provider, call.method, call.path
            )
            return module.error(call, 404, f"Not found: {call.method} {call.path}"), None
        call.operation = candidate.operation
        call.params = match.groupdict()
        denied = module.authenticate(call)
        if denied is not None:
            return denied, None
        if call.operation == "generate":
            call.json()
            call.model = module.model_of(call)
            served = call.sim.settings.models.get(call.provider)
            if served and call.model not in served:
                return module.model_not_found(call), None
        fault = sim.faults.take(call.provider, call.operation, call.model)
        sim.sleep(sim.faults.latency_for(call.provider, call.operation))
        if fault is not None:
            sim.sleep(fault.delay)
            if fault.kind == "error":
                return module.fault_error(call, fault), _fault_label(fault)
            if fault.kind == "drop":
                call.body.drain()
                return Response(drop=True), "drop"
            call.fault = fault
        response = candidate.handler(call)
        if fault is not None and fault.kind == "stall":
            response.stall = fault.stall
        return response, _fault_label(fault) if fault else None

    def send(self, response: Response) -> int:
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return 0
        try:
            return self._send(response)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
            return 0

    def _send(self, response: Response) -> int:
        self.send_response(response.status)
        self.send_header(*SIMULATOR_HEADER)
        headers = {k.lower(): v for k, v in response.headers.items()}
        if response.stream is not None:
            self.send_header("Content-Type", headers.pop("content-type", response.content_type))
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            sent = 0
            for chunk in response.stream:
                if not chunk:
                    continue
                self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return sent
        if response.file is not None:
            size = response.file.stat().st_size
            headers.setdefault("content-type", response.content_type)
            headers["content-length"] = str(size)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            with open(response.file, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    self.wfile.write(chunk)
            return size
        if isinstance(response.body, (bytes, bytearray)):
            payload = bytes(response.body)
        elif isinstance(response.body, str):
            payload = response.body.encode()
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body).encode()
        headers.setdefault("content-type", response.content_type)
        headers["content-length"] = str(len(payload))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if response.stall:
            # Half the body, a silence, then the socket closes: a read timeout mid-answer.
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.server.sim.sleep(response.stall)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return len(payload) // 2
        if self.command != "HEAD":
            self.wfile.write(payload)
        return len(payload)


def _fault_label(fault: Fault) -> str:
    return f"error:{fault.status}" if fault.kind == "error" else fault.kind
