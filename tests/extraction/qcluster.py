"""A real `manage.py qcluster` process on the test database, for the qcluster tier.

The cluster is a separate process: it sees only committed data (tests use transactional_db) and
the test database by name (pytest-django's test_<name>), so the tier needs PostgreSQL. The ORM
broker lives in that database too; the test process enqueues into it (django-q2 sync mode off).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.fixtures.simulator import FAKE_KEYS  # noqa: F401 - the keys a worker process gets

REPO_ROOT = Path(__file__).resolve().parents[2]


def require_postgresql() -> None:
    if connection.vendor == "postgresql":
        return
    message = (
        "the qcluster tier needs PostgreSQL shared with a separate process: "
        "run it with DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name>"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def create_cache_table() -> None:
    """The cluster runs the real settings: a database cache (circuit breakers) in its table.
    Test settings use locmem, so the test database lacks that table until made here."""
    from django.core.management import call_command
    from django.test import override_settings

    db_cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}
    with override_settings(CACHES={"default": {**db_cache, "LOCATION": "remorai_cache"}}):
        call_command("createcachetable", verbosity=0)


def database_url_for_subprocess() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def direct_environment(simulator) -> dict[str, str]:
    return {
        **FAKE_KEYS,
        "OPENAI_BASE_URL": simulator.openai_base_url,
        "GEMINI_BASE_URL": simulator.gemini_base_url,
        "ANTHROPIC_BASE_URL": simulator.anthropic_base_url,
        "LITELLM_BASE_URL": "",
        "LITELLM_API_KEY": "",
    }


class QCluster:
    def __init__(self, log_path: Path, extra_env: dict[str, str]):
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "LLM_SECRETS"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "remorai.settings",
                "DATABASE_URL": database_url_for_subprocess(),
                "DB_CONN_MAX_AGE": "0",
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "REDIS_URL": "",
                "Q_WORKERS": "1",
                "Q_POLL": "0.1",
                "Q_TIMEOUT": "90",
                # django-q2's own re-delivery is far away: recovery must come from the sweeper.
                "Q_RETRY": "900",
                "EXTRACTION_HEARTBEAT_SECONDS": "0.5",
                "EXTRACTION_STALE_HEARTBEAT_SECONDS": "3",
                "EXTRACTION_STALE_QUEUED_SECONDS": "3",
                "LLM_RETRY_BASE_SECONDS": "0.05",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **extra_env,
            }
        )
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "manage.py"), "qcluster"],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        # "[remorai]" on the ORM broker, "[django_q:remorai:q]" on Redis
        self.wait_for_log(r"Q Cluster \S+ \[(django_q:)?remorai(:q)?\] running", timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, *, timeout: float, start: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            match = regex.search(self.log(), start)
            if match:
                return match
            if self.process.poll() is not None:
                raise AssertionError(f"qcluster exited early:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not in the qcluster log:\n{self.log()[-4000:]}")

    def claimed(self, run_id, attempt: int, *, timeout: float) -> int:
        """Wait for the log line of this claim; the claiming worker's pid."""
        match = self.wait_for_log(
            rf"run {run_id} claimed \(attempt {attempt}, pid (\d+)\)", timeout=timeout
        )
        return int(match.group(1))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # Whatever of its session is left (a worker mid-call): gone before the tables are flushed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class TcpForwarder:
    """127.0.0.1:<port> -> target; `.down()` refuses new connections and cuts open ones
    (a proxy that goes away mid-run)."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.is_down = False
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_down:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def down(self):
        self.is_down = True
        self.listener.close()
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
