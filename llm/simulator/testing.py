"""Helpers for tests and benchmarks: a control client (over HTTP, so it drives an in-thread or a
subprocess simulator alike), and starters for both.

    sim = start_thread()            # or start_process() for another process
    sim.fault(provider="openai", operation="generate", status=429, retry_after=2)
    sim.latency(2.0, operation="generate")
    sim.requests(provider="gemini")  # the request log
    sim.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


class SimulatorClient:
    """Control client for a running simulator at `url` (no trailing slash)."""

    def __init__(self, url: str, stop=None):
        self.url = url.rstrip("/")
        self._stop = stop
        self._http = httpx.Client(base_url=self.url, timeout=30)

    @property
    def openai_base_url(self) -> str:
        return self.url + "/openai/v1"

    @property
    def gemini_base_url(self) -> str:
        return self.url + "/gemini"

    @property
    def anthropic_base_url(self) -> str:
        return self.url + "/anthropic"

    def _post(self, action: str, data: dict | None = None) -> Any:
        response = self._http.post(f"/_control/{action}", json=data or {})
        response.raise_for_status()
        return response.json()

    def health(self) -> dict:
        return self._http.get("/_control/health").json()

    def reset(self, *, files: bool = True) -> None:
        self._post("reset", {"files": files})

    def fault(self, kind: str | None = None, **spec) -> dict:
        """Add a fault rule; e.g. fault(provider="gemini", operation="generate", status=429,
        retry_delay="2s", count=1) or fault("drop", operation="upload")."""
        if kind is not None:
            spec["kind"] = kind
        elif "status" in spec:
            spec["kind"] = "error"
        return self._post("faults", spec)["faults"][0]

    def faults(self) -> dict:
        return self._http.get("/_control/faults").json()

    def latency(self, seconds: float, *, provider: str = "*", operation: str = "*") -> None:
        self._post("latency", {"seconds": seconds, "provider": provider, "operation": operation})

    def chaos(self, *, seed: int, rate: float, **options) -> None:
        self._post("chaos", {"seed": seed, "rate": rate, **options})

    def expire(self, provider: str | None = None, id: str | None = None) -> int:
        return self._post("expire", {"provider": provider, "id": id})["expired"]

    def settings(self, **values) -> dict:
        return self._post("settings", values)

    def requests(self, **filters) -> list[dict]:
        params = {k: v for k, v in filters.items() if v is not None}
        response = self._http.get("/_control/requests", params=params)
        response.raise_for_status()
        return response.json()["requests"]

    def wait_for_requests(self, count: int, *, timeout: float = 10, **filters) -> list[dict]:
        """The log once it holds `count` matching entries (for calls made by another process)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.requests(**filters)
            if len(entries) >= count:
                return entries
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(entries)} of {count} {filters} requests after {timeout}s")
            time.sleep(0.05)

    def batches(self, **settings) -> dict:
        """Batch jobs and their settings; keywords set delay, expire, fail_ids, fail_status."""
        return self._post("batches", settings)

    def files(self) -> list[dict]:
        return self._http.get("/_control/files").json()["files"]

    def next_answer(self, sha256: str, answer, *, times: int = 1) -> dict:
        """The next `times` calls about the document with this sha256 answer `answer`."""
        return self._post("next_answer", {"sha256": sha256, "answer": answer, "times": times})

    def bytes_received(self, **filters) -> int:
        return sum(entry["bytes_in"] for entry in self.requests(**filters))

    def stop(self) -> None:
        self._http.close()
        if self._stop is not None:
            self._stop()
            self._stop = None

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_thread(host: str = "127.0.0.1", port: int = 0, data_dir: Path | None = None):
    """A simulator serving from a daemon thread of this process."""
    from .server import Simulator

    sim = Simulator(host=host, port=port, data_dir=data_dir).start()
    client = SimulatorClient(sim.url, stop=sim.stop)
    client.server = sim
    return client


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def start_process(
    host: str = "127.0.0.1", port: int | None = None, extra_args=(), timeout: float = 30
) -> SimulatorClient:
    """`manage.py runsimulator` in a subprocess; `.stop()` terminates it."""
    port = port or free_port(host)
    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "remorai.settings_test")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - not a pipe: an unread pipe could block a chatty server
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "manage.py"),
            "runsimulator",
            "--host",
            host,
            "--port",
            str(port),
            *extra_args,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"simulator exited early: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/_control/health", timeout=1).status_code == 200:
                client = SimulatorClient(url, stop=stop)
                client.process = process
                return client
        except httpx.TransportError:
            time.sleep(0.1)
    stop()
    raise RuntimeError(f"simulator did not answer at {url} within {timeout}s")
